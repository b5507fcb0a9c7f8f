// linux-6.x: today's virtio-net driver on a modern (VERSION_1) device:
// mergeable receive buffers, guest TSO4/6 with ECN, indirect descriptors
// and event-index notification suppression on the split ring.
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<ProfileInfo> kRegistered{ProfileInfo{
    "linux-6.x",
    "today's driver: MRG_RXBUF, VERSION_1, RING_EVENT_IDX, RING_INDIRECT_DESC, guest TSO4/6 and ECN, split ring",
    {
        {"virtio.features",
         Json{"CSUM", "GUEST_CSUM", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "HOST_TSO4", "HOST_TSO6",
              "HOST_ECN", "MRG_RXBUF", "STATUS", "CTRL_VQ", "RING_INDIRECT_DESC", "RING_EVENT_IDX", "VERSION_1"},
         "Linux 6.x drivers/net/virtio_net.c features[] as negotiated with QEMU's virtio-net-pci"},
        {"policy.name", "auto", "virtnet_probe(): the receive mode follows the negotiated features"},
        {"policy.mergeable.sizing", "ewma",
         "get_mergeable_buf_len() since Linux 3.14 (ab7db91705e9): an EWMA of packet lengths, from a page_frag"},
        {"guest.refill_rule", "today", "virtnet_receive(): refill when num_free > min(budget, ring size) / 2"},
        {"host.backend", "vhost", "QEMU with vhost=on: the in-kernel vhost-net backend of today's setups"},
    }}};

}  // namespace
}  // namespace vringsim

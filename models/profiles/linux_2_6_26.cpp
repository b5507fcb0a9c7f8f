// linux-2.6.26: the driver of the 2008 discussion before mergeable buffers.
// It accepts guest GSO, so it posts big packets: the 2008 max-buffer chain
// (header + 1514-byte buffer + MAX_SKB_FRAGS = 18 pages, 20 descriptors)
// on the legacy split ring (no event index, no indirect descriptors).
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<ProfileInfo> kRegistered{ProfileInfo{
    "linux-2.6.26",
    "the 2008 driver: guest GSO with big packets (max-buffer), legacy split ring, flags for notifications",
    {
        {"virtio.features",
         Json{"CSUM", "GUEST_CSUM", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "HOST_TSO4", "HOST_TSO6",
              "HOST_ECN"},
         "Linux 2.6.26 drivers/net/virtio_net.c features[]; QEMU virtio_net_bad_features() lists the guest ones"},
        {"policy.name", "max-buffer", "2.6.26 add_recvbuf(): skb of MAX_PACKET_LEN + MAX_SKB_FRAGS pages"},
        {"guest.refill_rule", "2008", "2.6.26 virtnet_poll: refill when vi->num < vi->max / 2"},
    }}};

}  // namespace
}  // namespace vringsim

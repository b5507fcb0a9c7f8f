// linux-6.x: today's virtio-net driver on a modern (VERSION_1) device:
// mergeable receive buffers, guest TSO4/6 with ECN, indirect descriptors
// and event-index notification suppression on the split ring.
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<ProfileInfo> kRegisteredLinux6x{ProfileInfo{
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
        {"guest.rx_premapped", true,
         "the profile stands for today's mainline (6.13 and later): 47008bb51c3e 'virtio_net: enable premapped mode "
         "for merge and small by default' (after the 6.11 revert of 6.10's 'rx enable premapped mode by default'); set false for 6.6-6.9, "
         "6.11 and 6.12 on a device without the DMA API"},
        {"host.backend", "vhost", "QEMU with vhost=on: the in-kernel vhost-net backend of today's setups"},
        // Latencies: estimates, as no measurement of them is published for a
        // given host (docs/model.md §4b gives the reasoning).
        {"latency.kick_ns", 1000.0,
         "estimate: an ioeventfd write ends in KVM (no exit to QEMU), which signals the vhost worker's eventfd; a VM "
         "exit and entry cost hundreds to thousands of cycles (Intel, \"Understanding VM exits\", 2009)"},
        {"latency.interrupt_ns", 1000.0,
         "estimate: vhost signals an irqfd and KVM injects into the running vCPU (an IPI, a VM exit and entry)"},
        {"latency.vcpu_wakeup_ns", 5000.0,
         "estimate: the halted vCPU thread is scheduled back in, \"a trip through the scheduler, normally on the "
         "order of a few micro-seconds\" (Linux Documentation/virt/kvm/halt-polling.rst)"},
        {"latency.backend_wakeup_ns", 5000.0,
         "estimate: the sleeping vhost worker thread is woken by the scheduler, as a halted vCPU is "
         "(Linux Documentation/virt/kvm/halt-polling.rst: a few microseconds)"},
        {"host.halt_poll_ns", 200000.0, "KVM_HALT_POLL_NS_DEFAULT = 200000, arch/x86/include/asm/kvm_host.h"},
        {"costs.preset", "today-x86",
         "a current x86 server with vhost-net: three costs fitted to published figures of 2023-2026, the rest "
         "estimates (models/presets/today-x86.json, docs/model.md §4)"},
    }}};

}  // namespace
}  // namespace vringsim

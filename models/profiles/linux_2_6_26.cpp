// linux-2.6.26: the driver of the 2008 discussion before mergeable buffers.
// It accepts guest GSO, so it posts big packets: the 2008 max-buffer chain
// (header + 1514-byte buffer + MAX_SKB_FRAGS = 18 pages, 20 descriptors)
// on the legacy split ring (no event index, no indirect descriptors).
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<ProfileInfo> kRegisteredLinux2626{ProfileInfo{
    "linux-2.6.26",
    "the 2008 driver: guest GSO with big packets (max-buffer), legacy split ring, flags for notifications",
    {
        {"virtio.features",
         Json{"CSUM", "GUEST_CSUM", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "HOST_TSO4", "HOST_TSO6",
              "HOST_ECN"},
         "Linux 2.6.26 drivers/net/virtio_net.c features[]; QEMU virtio_net_bad_features() lists the guest ones"},
        {"policy.name", "max-buffer", "2.6.26 add_recvbuf(): skb of MAX_PACKET_LEN + MAX_SKB_FRAGS pages"},
        {"guest.refill_rule", "2008", "2.6.26 virtnet_poll: refill when vi->num < vi->max / 2"},
        // Latencies of the 2008 host (KVM with QEMU's user-space virtio-net):
        // estimates, as no measurement of them was published (docs/model.md §4b).
        {"latency.kick_ns", 5000.0,
         "estimate: the kick is a port write that exits to QEMU in user space (KVM's ioeventfd came in 2009), "
         "a VM exit, the return from the KVM_RUN ioctl and QEMU's dispatch to the device"},
        {"latency.interrupt_ns", 2000.0,
         "estimate: QEMU raises the interrupt with an ioctl; KVM kicks the running vCPU out with an IPI and injects "
         "it on the next entry"},
        {"latency.vcpu_wakeup_ns", 5000.0,
         "estimate: the halted vCPU thread is scheduled back in, \"a trip through the scheduler, normally on the "
         "order of a few micro-seconds\" (Linux Documentation/virt/kvm/halt-polling.rst)"},
        {"latency.backend_wakeup_ns", 5000.0,
         "estimate: QEMU's I/O thread, asleep in select(), is woken by the scheduler as a halted vCPU is"},
        {"host.halt_poll_ns", 0.0, "KVM halt polling came with Linux 4.0 (2015): in 2008 every idle vCPU halted"},
    }}};

}  // namespace
}  // namespace vringsim

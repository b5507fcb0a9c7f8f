#include "sim/core/cost_model.hpp"

#include <string>
#include <vector>

namespace vringsim {

namespace {

struct CostDecl;
const std::vector<CostDecl>& decls();

struct CostDecl {
  const char* key;
  double CostModel::*field;
  double def;
  const char* help;
  const char* source;
};

// Sources, in the order docs/guide/calibrating.md ("The cost model and its
// presets") explains them:
//  [calibrated]  fitted so the 2008 setup reproduces the thread's netperf
//                figures (docs/model.md §2); see docs/guide/calibrating.md.
//  [lguest-2008] derived from the times in Rusty Russell's commit
//                "virtio: Recycle unused recv buffer pages for large skbs in
//                net driver" (Linux fb6813f48080, 2008): receiving 1 GB with
//                64k+ buffers took 16.61 s with alloc_page/free_page and
//                10.81 s recycling pages; 5.8 s over ~690k MSS-sized packets
//                of 18 pages each is ~470 ns per page for alloc + free less
//                two list operations.
//  [estimate]    order-of-magnitude figure for 2008-class x86 hardware with
//                no single public measurement behind it; listed in
//                docs/guide/calibrating.md so a better source can replace it.
}  // namespace

namespace {

const std::vector<CostDecl>& decls() {
  static const std::vector<CostDecl> d = {
      {"costs.host.per_packet_ns", &CostModel::host_per_packet_ns, 1500.0,
       "host CPU per frame: tap read(2), QEMU receive dispatch, used-ring update",
       "[estimate] one read(2) of a 1.5 KB frame from tap plus QEMU's virtio_net_receive bookkeeping"},
      {"costs.host.per_descriptor_ns", &CostModel::host_per_descriptor_ns, 40.0,
       "host CPU per descriptor of a chain the device takes (virtqueue_pop maps every one)",
       "[estimate] a few cache misses per descriptor: 16-byte entry, guest-physical to host mapping"},
      {"costs.host.per_byte_ns", &CostModel::host_per_byte_ns, 0.25, "host CPU per byte written into guest buffers",
       "[estimate] memcpy at ~4 GB/s, 2008 Core 2 class memory bandwidth"},
      {"costs.host.per_kick_ns", &CostModel::host_per_kick_ns, 2000.0,
       "host CPU to handle a guest kick (I/O exit to QEMU, flush queued packets)",
       "[estimate] KVM I/O exit to user space and back on 2008 hardware, a few microseconds"},
      {"costs.host.per_interrupt_ns", &CostModel::host_per_interrupt_ns, 1000.0,
       "host CPU to inject an interrupt (QEMU raises the irq line through a KVM ioctl); the guest sees the "
       "interrupt this long after the used buffers are published",
       "[estimate] one ioctl into KVM and the injection on VM entry, about a microsecond on 2008 hardware"},
      {"costs.host.per_segment_ns", &CostModel::host_per_segment_ns, 200.0,
       "host CPU per MTU frame cut from a GSO packet for a guest without GSO (skb_gso_segment: an skb and a "
       "header copy each); paid by the backend thread that serves the frame",
       "[estimate] an skb allocation, a 66-byte header copy and checksum fix-up, ~200 ns"},
      // The two fitted values, to the last digit: `vringsim calibrate
      // scenarios/calibration/2008-netperf.json --out models/presets/2008.json`
      // writes them into the 2008 preset, which a test holds equal to these.
      {"costs.guest.per_packet_ns", &CostModel::guest_per_packet_ns, 5328.0,
       "guest CPU per packet: skb allocation, header parsing, the TCP/IP stack up to the socket",
       "[calibrated] with per_descriptor_ns on the 2008 setup run on its era's host (docs/model.md §2; the 2008 "
       "preset's latencies, QEMU's notify-on-empty): max-buffer ~1 Gb/s, mergeable ~2 Gb/s"},
      {"costs.guest.per_descriptor_ns", &CostModel::guest_per_descriptor_ns, 95.0,
       "guest CPU per descriptor added to the ring (add_buf) or detached from it (get_buf)",
       "[calibrated] with per_packet_ns on the 2008 setup run on its era's host (docs/model.md §2)"},
      {"costs.guest.per_byte_copy_ns", &CostModel::guest_per_byte_copy_ns, 0.25,
       "guest CPU per byte copied (copy-break into the skb head)",
       "[estimate] memcpy at ~4 GB/s, 2008 Core 2 class memory bandwidth"},
      {"costs.guest.per_page_alloc_ns", &CostModel::guest_per_page_alloc_ns, 250.0,
       "guest CPU per alloc_pages() call (any order)",
       "[lguest-2008] alloc + free ~470 ns per page; split 250 alloc / 230 free"},
      {"costs.guest.per_page_free_ns", &CostModel::guest_per_page_free_ns, 230.0,
       "guest CPU per block freed to the page allocator", "[lguest-2008] see per_page_alloc_ns"},
      {"costs.guest.per_page_recycle_ns", &CostModel::guest_per_page_recycle_ns, 10.0,
       "guest CPU to take a page from, or give one to, the driver's private list (get_a_page/give_a_page)",
       "[lguest-2008] two list operations are the remainder of the per-page difference"},
      {"costs.guest.per_frag_carve_ns", &CostModel::guest_per_frag_carve_ns, 20.0,
       "guest CPU to carve one mergeable buffer from the page_frag (skb_page_frag_refill fast path, get_page, "
       "offset arithmetic)",
       "[estimate] an atomic increment and a few loads, tens of nanoseconds"},
      {"costs.guest.per_ewma_update_ns", &CostModel::guest_per_ewma_update_ns, 2.0,
       "guest CPU to update the mergeable buffer-length EWMA once per packet (ewma_pkt_len_add)",
       "[estimate] a shift, a subtraction and an addition"},
      {"costs.guest.per_indirect_table_ns", &CostModel::guest_per_indirect_table_ns, 150.0,
       "guest CPU to allocate an indirect descriptor table when a chain is added and free it when it is "
       "detached (alloc_indirect_split: kmalloc_array, kfree)",
       "[estimate] a slab allocation and free of ~300 bytes, ~100-200 ns"},
      {"costs.guest.per_kick_ns", &CostModel::guest_per_kick_ns, 2000.0,
       "guest vCPU time lost to the I/O exit of a kick",
       "[estimate] KVM I/O exit to user space and back on 2008 hardware, a few microseconds"},
      {"costs.guest.per_interrupt_ns", &CostModel::guest_per_interrupt_ns, 2000.0,
       "guest vCPU time per interrupt: injection, handler entry, EOI exit",
       "[estimate] injection plus an APIC EOI exit on 2008 hardware (no posted interrupts)"},
      {"costs.guest.per_poll_ns", &CostModel::guest_per_poll_ns, 200.0,
       "guest CPU per NAPI poll round (softirq entry, napi bookkeeping)",
       "[estimate] a softirq round trip, a few hundred cycles"},
      {"costs.guest.per_xdp_ns", &CostModel::guest_per_xdp_ns, 30.0,
       "guest CPU to run the attached XDP program on one frame (guest.xdp_action): xdp_init_buff, "
       "xdp_prepare_buff, bpf_prog_run_xdp and the verdict's switch in receive_small_xdp/receive_mergeable_xdp",
       "[estimate] a JIT-compiled one-verdict program and the xdp_buff set-up, tens of nanoseconds"},
      {"costs.guest.per_byte_ns", &CostModel::guest_per_byte_ns, 0.0,
       "guest CPU per byte of a frame handed to the stack (not an XDP drop): the reader's copy to user space "
       "(tcp_recvmsg/udp_recvmsg -> skb_copy_datagram_iter) on the queue's vCPU, and checksum work",
       "[estimate] 0: in 2008 every calibration frame was an MTU frame, so the reader's copy is inside the "
       "calibrated per_packet_ns"},
  };
  return d;
}

}  // namespace

const Bindings<CostModel>& CostModel::bindings() {
  static const Bindings<CostModel> b = [] {
    Bindings<CostModel> out;
    for (const auto& d : decls())
      out.add(d.field, ParamSpec::number(d.key, d.def, "ns").range(0.0, 1e9).help(d.help).from(d.source));
    return std::move(out)
        .declare_only(ParamSpec::string("costs.preset", "")
                          .help("a cost preset file (JSON, written by `vringsim calibrate`) whose costs fill those the "
                                "scenario does not set; relative to the scenario's directory when written in a scenario, to the "
                                "working directory when given by --set")
                          .from("none: the defaults below"))
        .bind(&CostModel::host_service_exponential,
              ParamSpec::string("costs.host.service_distribution", "deterministic", {"deterministic", "exponential"})
                  .help("the host's time per frame: exactly its cost, or an exponential draw with that mean (for "
                        "the analytic cross-check, `vringsim analytic`)")
                  .from("deterministic: costs are per unit of work"),
              [](const Json& v) { return v == "exponential"; });
  }();
  return b;
}

void CostModel::declare(ParamTable& table) { bindings().declare(table); }

CostModel CostModel::from(const Config& cfg) { return bindings().load(cfg); }

Json CostModel::origins(const Config& cfg, const CostPresetUse& preset) {
  Json out = Json::object();
  const CostModel c = from(cfg);
  const auto tag_of = [](const std::string& source) {
    return source.starts_with("[") && source.find(']') != std::string::npos ? source.substr(1, source.find(']') - 1)
                                                                            : std::string("source");
  };
  for (const CostDecl& d : decls()) {
    const double v = c.*(d.field);
    Json row{{"ns", v}, {"default_ns", d.def}};
    if (preset.filled.contains(d.key)) {
      const auto it = preset.sources.find(d.key);
      row["origin"] = it == preset.sources.end() ? "preset" : tag_of(it->second);
      row["preset"] = preset.name;
    } else {
      row["origin"] = v == d.def ? tag_of(d.source) : "given";
    }
    out[d.key] = std::move(row);
  }
  return out;
}

}  // namespace vringsim

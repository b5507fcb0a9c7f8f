#include "sim/core/settings.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>

#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {

namespace {
std::string run_name_problem(const Json& v) {
  // [A-Za-z0-9][A-Za-z0-9._-]{0,99}: it names a directory.
  const std::string n = v.get<std::string>();
  auto ok = [](char c, bool first) {
    return std::isalnum(static_cast<unsigned char>(c)) || (!first && (c == '.' || c == '_' || c == '-'));
  };
  bool good = !n.empty() && n.size() <= 100;
  for (size_t i = 0; good && i < n.size(); ++i) good = ok(n[i], i == 0);
  return good ? ""
              : "must be 1..100 characters of letters, digits, '.', '_' or '-', starting with a letter or digit";
}
}  // namespace

const Bindings<RunSettings>& RunSettings::bindings() {
  using S = RunSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::schema_version, ParamSpec::integer("schema_version", kSchemaVersion, "")
                                        .range(1, kSchemaVersion)
                                        .help("scenario file format version")
                                        .from("this build of vringsim"))
          .bind(&S::name, ParamSpec::string("name", "")
                              .mandatory()
                              .help("the run's name: names its output directory")
                              .from("required")
                              .must(run_name_problem)
                              .matching("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"))
          .bind(&S::description, ParamSpec::string("description", "").help("free text").from("none"))
          .bind(&S::seed, ParamSpec::integer("seed", 1, "")
                              .integer_range(0, INT64_MAX)
                              .help("seed of every random stream in the run")
                              .from("arbitrary; same seed, same bytes"))
          .bind(&S::stop_time_s, ParamSpec::number("stop.time_s", 1.0, "s")
                                     .range(1e-9, 1e6)
                                     .help("simulated time at which the run stops")
                                     .from("one simulated second: ~800k MTU frames at 10 Gb/s"))
          .bind(&S::stop_packets,
                ParamSpec::integer("stop.packets", 0, "packets")
                    .integer_range(0, INT64_MAX)
                    .help("frames the source offers at most (0: no limit); the run then stops once every one is "
                          "delivered or dropped, or at stop.time_s")
                    .from("no limit"))
          .bind(&S::warmup_s, ParamSpec::number("measure.warmup_s", 0.1, "s")
                                  .range(0, 1e6)
                                  .help("initial period excluded from rates, means, latency and notification counts")
                                  .from("covers the initial ring fill and tap queue build-up at 10 Gb/s with margin"))
          .bind(&S::sample_interval_s, ParamSpec::number("measure.sample_interval_s", 0.001, "s")
                                           .range(1e-7, 1e6)
                                           .help("period of timeseries.csv rows")
                                           .from("1 ms: a thousand rows per simulated second"))
          .bind(&S::skip_idle_samples, ParamSpec::boolean("measure.skip_idle_samples", true)
                                           .help("timeseries.csv leaves out rows identical to the ones on both "
                                                 "sides but for time_s (a run of idle samples keeps its first and "
                                                 "last row: nothing is lost, forward-fill restores the grid); "
                                                 "summary.json measure.timeseries_rows says how many were written")
                                           .from("a sparse 30-minute capture wrote 1.8 M rows, most of them equal"))
          .bind(&S::ring_size, ParamSpec::integer("ring.size", 256, "entries")
                                   .range(1, kMaxQueueSize)
                                   .help("rx virtqueue size (descriptors): a power of two for a split ring, any "
                                         "size with RING_PACKED")
                                   .from("docs/model.md §2: the 2008 ring of 256 entries (QEMU's rx queue size)"))
          .bind(&S::policy, ParamSpec::string("policy.name", "mergeable",
                                              [] {
                                                auto names = Registry<PolicyInfo>::instance().names();
                                                names.insert(names.begin(), kAutoPolicy);
                                                return names;
                                              }())
                                .help("receive-buffer allocation policy (vringsim policies); \"auto\": the one "
                                      "the negotiated features select (the default with driver.profile or "
                                      "virtio.features)")
                                .from("mergeable: the scheme Linux adopted in 2008"))
          .bind(&S::traffic_kind,
                ParamSpec::string("traffic.kind", "synthetic", Registry<TrafficInfo>::instance().names())
                    .help("traffic source kind")
                    .from("synthetic generator"));
  return b;
}

const Bindings<DeviceSettings>& DeviceSettings::bindings() {
  using S = DeviceSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::tap_queue_packets,
                ParamSpec::integer("host.tap_queue_packets", 500, "packets")
                    .range(1, 100000000)
                    .help("tap device queue: frames waiting for the backend; arrivals beyond it are dropped (tap_full)")
                    .from("TUN_READQ_SIZE = 500, drivers/net/tun.c"))
          .bind(&S::burst_packets,
                ParamSpec::integer("host.burst_packets", 64, "packets")
                    .range(1, 1000000)
                    .help("qemu backend: frames the device serves per step; on shared host cores (a topology's "
                          "core groups) also the length of a backend's turn on a core before it queues again, so "
                          "contended runs depend on it (scenarios/capacity/8g-1q-4c-max-buffer.json: 7.8898 Gb/s at 1, 7.8912 at 64); with a "
                          "core of its own the results do not depend on it (tested)")
                    .from("VHOST_NET_BATCH = 64, drivers/vhost/net.c, as a convenient size"))
          .bind(&S::drop_bad_chains,
                ParamSpec::string("host.on_bad_chain", "broken", {"broken", "drop"})
                    .help("what the device does with a faulty descriptor chain: broken: mark itself broken (needs "
                          "reset) and stop using the ring; drop: skip the chain and return it unused (length 0)")
                    .from("broken: QEMU virtio_error() on every check in virtqueue_split_pop"),
                [](const Json& v) { return v == "drop"; })
          .bind(&S::max_chain_descriptors, ParamSpec::integer("host.max_chain_descriptors", 1024, "descriptors")
                                               .range(1, kMaxQueueSize)
                                               .help("longest chain the device accepts (and never more than the "
                                                     "ring size)")
                                               .from("VIRTQUEUE_MAX_SIZE = 1024, QEMU include/hw/virtio/virtio.h"))
          .bind(&S::vhost,
                ParamSpec::string("host.backend", "qemu", {"qemu", "vhost"})
                    .help("qemu: the 2008 userspace backend (turns of host.burst_packets frames on shared cores); "
                          "vhost: vhost-net, which moves up to 64 frames at a time out of the tap's queue "
                          "(VHOST_NET_BATCH; they no longer count against host.tap_queue_packets) and yields its "
                          "turn after 256 frames or 512 KiB (VHOST_NET_PKT_WEIGHT, VHOST_NET_WEIGHT)")
                    .from("qemu: the 2008 setup; linux-6.x sets vhost (drivers/vhost/net.c)"),
                [](const Json& v) { return v == "vhost"; })
          .bind(&S::can_receive_bytes,
                ParamSpec::integer("host.can_receive_bytes", 0, "bytes")
                    .range(0, 1 << 30)
                    .help("QEMU with mergeable buffers reads the tap only while the posted buffers hold at least "
                          "this many bytes (and takes a frame only when they hold it and its header); 0: only the "
                          "frame's own size counts. The 2008 scenarios with mergeable buffers set 65546")
                    .from("0: today's QEMU, hw/net/virtio-net.c (virtio_net_can_receive checks no buffers; "
                          "virtio_net_has_buffers the frame's size). 65546 = VIRTIO_NET_MAX_BUFSIZE, "
                          "sizeof(struct virtio_net_hdr) + 64 KiB, in do_virtio_net_can_receive of kvm-80's "
                          "qemu/hw/virtio-net.c (Mark McLoughlin, 2008-11-26, the host side of the mergeable "
                          "series) and QEMU 0.10.0"))
          .bind(&S::notify_on_empty,
                ParamSpec::boolean("host.notify_on_empty", false)
                    .help("qemu backend, split ring, flags (no RING_EVENT_IDX): the device interrupts after a "
                          "publication even while the guest suppresses interrupts (VRING_AVAIL_F_NO_INTERRUPT) "
                          "when it has no buffer left: every posted chain taken and every chain taken returned. "
                          "The 2008 QEMU did so whether or not the guest accepted VIRTIO_F_NOTIFY_ON_EMPTY "
                          "(bit 24); false: today's QEMU with a guest that does not accept it (Linux since "
                          "2.6.32)")
                    .from("kvm-userspace qemu/hw/virtio.c virtio_notify(), \"Always notify when queue is empty\": "
                          "if ((vq->inuse || vring_avail_idx(vq) != vq->last_avail_idx) && (vring_avail_flags(vq) "
                          "& VRING_AVAIL_F_NO_INTERRUPT)) return; (inuse since 67fecf87, Mark McLoughlin, "
                          "2008-08-11; kvm-80; QEMU 0.10.0 hw/virtio.c). false: no shipped scenario turns it on "
                          "yet"));
  return b;
}

const Bindings<DriverSettings>& DriverSettings::bindings() {
  using S = DriverSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::napi_budget, ParamSpec::integer("guest.napi_budget", 64, "packets")
                                     .range(1, 1000000)
                                     .help("packets one NAPI poll may process")
                                     .from("napi_weight 64, drivers/net/virtio_net.c (2.6.27: netif_napi_add(..., "
                                           "64))"))
          .bind(&S::refill_2008,
                ParamSpec::string("guest.refill_rule", "2008", {"2008", "today"})
                    .help("2008: after a poll, refill if posted < max posted / 2 (2.6.27 virtnet_poll); today: if "
                          "num_free > min(budget, ring size) / 2 (virtnet_receive)")
                    .from("docs/model.md §6"),
                [](const Json& v) { return v == "2008"; })
          .bind(&S::page_alloc_failure_prob, ParamSpec::number("guest.page_alloc_failure_prob", 0.0, "probability")
                                                 .range(0, 1)
                                                 .help("probability that one page allocation fails (memory pressure)")
                                                 .from("0: no memory pressure"))
          .bind(&S::refill_retry_delay_s,
                ParamSpec::number("guest.refill_retry_delay_s", 0.5, "s")
                    .range(0, 1e6)
                    .help("after a failed refill leaves the ring empty, retry after this delay")
                    .from("HZ/2: schedule_delayed_work(&vi->refill, HZ/2) in refill_work(), drivers/net/virtio_net.c"))
          .bind(&S::xdp, ParamSpec::boolean("guest.xdp", false)
                             .help("an XDP program is attached: mergeable buffers (ewma sizing) are PAGE_SIZE - "
                                   "SKB_DATA_ALIGN(256 + 320) bytes, headroom and skb_shared_info around each")
                             .from("no XDP program"))
          .bind(&S::xdp_action,
                ParamSpec::string("guest.xdp_action", "none", {"none", "pass", "drop"})
                    .help("the verdict of the XDP program attached to the queue, for every frame: none (no program, "
                          "unless guest.xdp), pass (the program runs, then the frame goes up the stack as without "
                          "it) or drop (the program runs, the buffers are freed at once: no skb, no stack; "
                          "receive_small_xdp / receive_mergeable_xdp in drivers/net/virtio_net.c). Either attaches a "
                          "program as guest.xdp does; costs.guest.per_xdp_ns is paid per frame")
                    .from("none: no XDP program"),
                [](const Json& v) {
                  return v == "drop"   ? DriverSettings::XdpAction::Drop
                         : v == "pass" ? DriverSettings::XdpAction::Pass
                                       : DriverSettings::XdpAction::None;
                })
          .bind(&S::max_skb_frags, ParamSpec::integer("guest.max_skb_frags", 17, "pages")
                                       .range(17, 45)
                                       .help("MAX_SKB_FRAGS (CONFIG_MAX_SKB_FRAGS): a big-packets posting with guest "
                                             "GSO takes this many pages after the first, and 2 more buffers")
                                       .from("17: the default of include/linux/skbuff.h since 6.3 (65536 / "
                                             "PAGE_SIZE + 1)"))
          .bind(&S::frag_order_failure_prob,
                ParamSpec::number("guest.frag_order_failure_prob", 0.0, "probability")
                    .range(0, 1)
                    .help("probability that an order-3 (32 KiB) page_frag allocation fails; the frag is then one "
                          "page (mergeable mtu and ewma sizing)")
                    .from("0: memory not fragmented"))
          .bind(&S::rx_premapped,
                ParamSpec::boolean("guest.rx_premapped", false)
                    .help("the driver maps receive frags for DMA itself (premapped mode, virtnet_rq_alloc): a 16-byte "
                          "struct virtnet_rq_dma sits at the head of each new page_frag and the frag is never "
                          "reused from its start while it is being carved (mergeable mtu and ewma sizing); 4096-byte "
                          "buffers then fit 7 to a 32 KiB frag instead of 8")
                    .from("off before Linux 6.6 and where the device does not use the DMA API (6.6-6.9, 6.11, 6.12: "
                          "virtqueue_set_dma_premapped fails without it); on for mergeable and small buffers in 6.10 "
                          "(the series 'rx enable premapped mode by default', reverted for 6.11) and from 6.13 (47008bb51c3e, 'virtio_net: enable "
                          "premapped mode for merge and small by default'); linux-6.x sets it"));
  return b;
}

const Bindings<LatencySettings>& LatencySettings::bindings() {
  using S = LatencySettings;
  static constexpr const char* kFrom =
      "0: no latency, the model before them; driver.profile sets an estimate for its era (docs/model.md §4b)";
  auto ns = [](const char* key, const char* help, const char* from) {
    return ParamSpec::number(key, 0.0, "ns").range(0, 1e9).help(help).from(from);
  };
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::kick_ns, ns("latency.kick_ns",
                                "a kick sent by the guest -> the device sees it (2008: the I/O exit to QEMU; today: "
                                "the ioeventfd signal); the device stays starved meanwhile and the guest may kick "
                                "again. No CPU is charged for it (costs.*.per_kick_ns are the CPU)",
                                kFrom))
          .bind(&S::interrupt_ns, ns("latency.interrupt_ns",
                                     "an interrupt injected -> the guest's handler runs, on a running vCPU; the "
                                     "driver sees used buffers that much later. No CPU is charged for it",
                                     kFrom))
          .bind(&S::vcpu_wakeup_ns,
                ns("latency.vcpu_wakeup_ns",
                   "added to latency.interrupt_ns when the interrupt finds the vCPU halted (idle for longer than "
                   "host.halt_poll_ns): the host schedules the vCPU thread back in",
                   kFrom))
          .bind(&S::backend_wakeup_ns,
                ns("latency.backend_wakeup_ns",
                   "a sleeping backend thread (QEMU's I/O thread, a vhost worker) woken by a kick or by a frame "
                   "reaching an empty tap runs this much later",
                   kFrom))
          .bind(&S::halt_poll_ns,
                ParamSpec::number("host.halt_poll_ns", 200000.0, "ns")
                    .range(0, 1e10)
                    .help("KVM halt polling: an idle vCPU polls this long before it halts; an interrupt within it "
                          "finds the vCPU running (no latency.vcpu_wakeup_ns, no halt counted). 0: every idle "
                          "period is a halt (before Linux 4.0, as in 2008)")
                    .from("KVM_HALT_POLL_NS_DEFAULT = 200000, arch/x86/include/asm/kvm_host.h"));
  return b;
}

}  // namespace vringsim

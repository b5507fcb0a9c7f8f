// The core's settings of one run, each member bound to the parameter that
// fills it (sim/core/bindings.hpp): what the run is (RunSettings), how the
// host device behaves (DeviceSettings), how the guest driver behaves
// (DriverSettings). Components with settings of their own bind them beside
// their members the same way (CostModel, FaultPlan, ArrivalProcess,
// Aggregator, every plug-in).
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/bindings.hpp"

namespace vringsim {

/// The current scenario file format.
inline constexpr int kSchemaVersion = 1;

struct RunSettings {
  int64_t schema_version = kSchemaVersion;
  std::string name;
  std::string description;
  uint64_t seed = 1;
  double stop_time_s = 1.0;
  uint64_t stop_packets = 0;  ///< 0: no limit
  double warmup_s = 0.1;
  double sample_interval_s = 0.001;
  bool skip_idle_samples = true;  ///< timeseries.csv: keep only the first and last of identical rows
  uint32_t ring_size = 256;
  std::string policy;        ///< policy.name
  std::string traffic_kind;  ///< traffic.kind
  static const Bindings<RunSettings>& bindings();
};

struct DeviceSettings {
  uint32_t tap_queue_packets = 500;
  uint32_t burst_packets = 64;
  bool drop_bad_chains = false;  ///< false: a faulty chain breaks the device (QEMU virtio_error)
  uint32_t max_chain_descriptors = 1024;
  bool vhost = false;  ///< host.backend: vhost-net (in-kernel) rather than QEMU's userspace backend
  uint64_t can_receive_bytes = 0;  ///< QEMU, mergeable: posted bytes it needs before it reads the tap
  bool notify_on_empty = false;    ///< QEMU 2008: interrupt, whatever the guest suppressed, once out of buffers
  static const Bindings<DeviceSettings>& bindings();
  bool operator==(const DeviceSettings&) const = default;
};

struct DriverSettings {
  uint32_t napi_budget = 64;
  bool refill_2008 = true;
  double page_alloc_failure_prob = 0;
  double refill_retry_delay_s = 0.5;
  bool xdp = false;                     ///< guest.xdp: an XDP program is attached (buffer headroom and tailroom)
  /// What the attached XDP program decides for every frame (guest.xdp_action).
  enum class XdpAction : uint8_t { None, Pass, Drop };
  XdpAction xdp_action = XdpAction::None;
  /// An XDP program runs on every frame: guest.xdp, or an xdp_action.
  bool xdp_attached() const { return xdp || xdp_action != XdpAction::None; }
  uint32_t max_skb_frags = 17;          ///< MAX_SKB_FRAGS: pages of a big-packets posting with guest GSO
  double frag_order_failure_prob = 0;  ///< an order-3 page_frag allocation fails
  bool rx_premapped = false;  ///< the driver DMA-maps receive frags itself (struct virtnet_rq_dma at each frag's head)
  static const Bindings<DriverSettings>& bindings();
  bool operator==(const DriverSettings&) const = default;
};

/// Time a notification or a wake-up takes that is not CPU time, consumed on
/// the timeline of the side that waits (docs/model.md §4b). Zero
/// latencies reproduce the model without them, byte for byte.
struct LatencySettings {
  double kick_ns = 0;            ///< a kick sent -> the device sees it
  double interrupt_ns = 0;       ///< an interrupt injected -> the running guest takes it
  double vcpu_wakeup_ns = 0;     ///< more when the vCPU had halted
  double backend_wakeup_ns = 0;  ///< a sleeping backend thread woken (by a kick or a frame) -> it runs
  double halt_poll_ns = 200000;  ///< an idle vCPU polls this long before it halts
  static const Bindings<LatencySettings>& bindings();
  bool operator==(const LatencySettings&) const = default;
};

}  // namespace vringsim

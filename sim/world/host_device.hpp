// The host device actor (the backend: QEMU's virtio-net receive path in 2008):
// frames wait in a bounded tap queue; the device takes buffers from the avail
// ring, copies each frame in, returns the chains on the used ring and, while
// it has none, waits for a kick with notifications enabled.
//
// Performance: the actor serves a whole burst of frames per SimGrid step and
// stamps each frame's events with its own time (docs/model.md §7: a hand-off per
// packet is too slow). A burst ends exactly where the device would need
// something the guest might still change (more buffers), so results do not
// depend on the burst size (tests/world checks this).
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "sim/core/cost_model.hpp"
#include "sim/core/faults.hpp"
#include "sim/core/fifo.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/settings.hpp"
#include "sim/core/traffic.hpp"
#include "sim/engine/actor_clock.hpp"
#include "sim/engine/cores.hpp"
#include "sim/world/dispatch.hpp"
#include "sim/world/queue_events.hpp"
#include "sim/world/shared.hpp"

namespace vringsim {

/// drivers/vhost/net.c: frames moved from the tap per batch, and a turn's
/// weight in frames and bytes.
inline constexpr uint32_t kVhostNetBatch = 64;
inline constexpr uint32_t kVhostNetPktWeight = 256;
inline constexpr uint64_t kVhostNetWeight = 0x80000;

class HostDevice {
 public:
  /// The device's settings from the scenario (DeviceSettings: host.*, bound
  /// to their parameters) and what the world adds.
  struct Options : DeviceSettings {
    bool mergeable = false;
    uint32_t header_bytes = 10;
    uint64_t max_frame_bytes = 0;
    const FaultPlan* faults = nullptr;
    uint64_t seed = 0;
    /// The host cores this backend thread shares with others (null: a core of its own).
    CorePool* cores = nullptr;
    CorePool::Thread core_thread = 0;  ///< its thread in `cores`
    /// Skip the sleeps no other actor can cut short (actor_clock.hpp; one receive queue only).
    bool lookahead = false;
    LatencySettings latency;
    /// Frames dropped on arrival go out as runs (FramesDropped), split at
    /// each sample instant (every `sample_interval`), at `warmup` and at
    /// the stop time; false: a FrameArrived and a FrameDropped each.
    bool drop_runs = true;
    SimTime sample_interval = 1'000'000;  ///< ns
    SimTime warmup = 0;
  };
  HostDevice(Shared& shared, const CostModel& costs, Options opt, Dispatcher& feed);

  /// The actor's body: vhost-net's handle_rx, or QEMU's receive path, as
  /// long as the run lasts.
  Task<void> run();
  /// Runs as a task of `loop` (task_loop.hpp), not as an actor of its own.
  void run_on(TaskLoop& loop) { clock_.attach(&loop); }

  /// The device's time: the run's nanoseconds (sim_time.hpp), as every
  /// instant of the world.
  SimTime now() const { return clock_.now(); }
  /// Moves every frame that has arrived by `t` into the tap queue, dropping
  /// those that find it full. Returns the number dropped. `now`: the
  /// caller's time (the sampler's, when it brings every queue up to a sample).
  uint64_t admit_until(SimTime t, SimTime now);

  // For the books at the end of a run: the device's own counts.
  struct Count {
    uint64_t packets = 0, bytes = 0;
    void add(uint32_t len) {
      ++packets;
      bytes += len;
    }
  };
  uint64_t admitted_packets() const { return admitted_.packets; }
  uint64_t admitted_bytes() const { return admitted_.bytes; }
  const Count& dropped(DropReason why) const { return dropped_[static_cast<int>(why)]; }
  uint64_t tap_packets() const { return tap_.size(); }
  /// vhost: frames written and not yet published (a turn cut by backend_pause).
  uint64_t batch_packets() const { return batch_used_.packets; }
  uint64_t batch_bytes() const { return batch_used_.bytes; }
  uint64_t tap_bytes() const;

  /// For the liveness check: the device waits for a kick.
  bool waiting_for_kick() const { return waiting_for_kick_; }

  // Faulty chains found, by ChainFault; whether (and when) the device broke.
  const std::array<uint64_t, kChainFaults>& bad_chains() const { return bad_chains_; }
  bool broken() const { return broken_; }
  SimTime broken_at() const { return broken_at_; }

 private:
  struct Burst {
    uint32_t served = 0;  ///< frames taken
    uint64_t fates = 0;   ///< frames whose fate (a drop) was decided
    // Progress, for a burst stopped to wake the driver and called again.
    uint64_t bytes = 0;        ///< of the frames taken
    bool looked = false;       ///< the ring was looked at (vhost disabled kicks)
    bool wake = false;         ///< stopped: the sleeping driver must be woken first
    bool retry_front = false;  ///< then the same frame is tried again
  };
  /// Wake: a faulty chain was returned and the driver sleeps; it must be
  /// woken (wake_driver_to_look) before the same frame is tried again.
  enum class Served { Frame, Dropped, Stop, Wake };
  enum class Screen { Ok, Broken, Wake };
  /// While a backend_pause window is open at `cursor`, the backend runs nothing until its end.
  std::optional<SimTime> pause_end(SimTime cursor) const;
  /// Shared cores: queues for one, if there is work; true if it holds one.
  Task<bool> acquire_core(SimTime& cursor);
  /// A frame served or dropped at `t`; a step at `t` that did neither (a
  /// chain refused, a round with nothing done). kMaxIdleRounds of those at
  /// one instant throw InvariantError: a zero-time livelock. 100,000 is
  /// three times the largest ring (32,768 chains, each refused once before
  /// the driver can post again); a million took 56 s under ASan.
  void progressed(SimTime t);
  void no_progress(SimTime t);
  static constexpr uint64_t kMaxIdleRounds = 100'000;
  SimTime stuck_at_ = -1;
  uint64_t idle_rounds_ = 0;
  /// Wakes a sleeping driver to look at the used ring again, at the device's time.
  Step wake_driver_to_look();
  Task<void> sync_and_wake_driver();
  /// When the pending kick reaches the device (latency.kick_ns and, the
  /// backend thread being asleep, latency.backend_wakeup_ns after it was sent).
  SimTime kick_arrival() const;
  /// A pending kick has arrived by `cursor` while the device ran (to be taken and paid for).
  bool kick_arrived(SimTime cursor) const;
  /// The host's cost of handling a kick, from `cursor` on.
  Task<void> pay_kick(SimTime& cursor, bool share);
  /// Sleeps until `t`, or until a kick wakes the device if one can come;
  /// true if a kick came first.
  Task<bool> idle_until(SimTime t);
  /// Takes the pending kick and pays for it (vhost: handle_rx runs again).
  Task<void> handle_kick(SimTime& cursor, bool share);
  /// Publishes vhost's batch of used entries at `t` (vhost_net_signal_used).
  void flush_batch(SimTime t);
  /// Counts fates for the drain check (RunState::add_fates), at the device's time.
  Step add_fates(uint64_t n);
  Task<void> add_last_fates(uint64_t n);
  /// One service burst: frames back to back while buffers last. It stops
  /// early with `b.wake` set when a faulty chain was returned to a sleeping
  /// driver, which must hear of it first; then it is called again with the
  /// same `b` and goes on.
  void serve_burst(SimTime& cursor, Burst& b);
  /// The frame at the front of the tap: taken, dropped, or the burst stops
  /// (no usable buffer, or the device broke).
  Served serve_front(SimTime& cursor, uint64_t& fates);
  void drop_too_large(SimTime& cursor);
  /// Takes the front frame out of the tap (and out of vhost's batch).
  void pop_front();
  /// Takes the frame's chains and writes it; false if the device broke midway.
  /// The front chain has just been screened (serve_front): it is not again.
  bool take_chains(const Packet& pkt, uint64_t need, SimTime& cursor);
  /// The tap is empty (or the source not known far enough): sleeps until the
  /// next arrival or the source's horizon. False if nothing more will come.
  Task<bool> wait_for_traffic(SimTime& cursor);
  /// No usable buffer: enables kicks, waits for one, and pays for it.
  Task<void> stall_for_buffers(SimTime& cursor, bool share);
  /// `now`: the caller's time (the device's, or the sampler's when it admits).
  void fetch_next(SimTime until, SimTime now);
  /// Takes the dispatcher's answer: the next frame, or when to ask again, or none.
  void take(const Dispatcher::Answer& a);
  /// After a frame dropped on arrival joined the run: the frames after it
  /// that arrive by `t` and that the run can take, counted into it without
  /// being built (Dispatcher::skip). Returns how many.
  uint64_t skip_dropped(SimTime t);
  /// Checks the chain at the front of the avail ring, and the next while one
  /// is faulty: counts it, then breaks the device (Broken) or skips it. A
  /// skipped chain is returned unused, after the frame being assembled if
  /// `in_frame` (so a frame's chains stay together on the used ring); one
  /// returned at once while the driver sleeps stops the screening (Wake):
  /// the driver is woken, and the screening goes on from there.
  /// `front_bytes`, if given, receives the writable bytes of the (good)
  /// chain now at the front, 0 if none is published.
  Screen screen_front(SimTime t, bool in_frame, uint64_t* front_bytes = nullptr);
  void break_device(SimTime t);
  void drop(const Packet& p, SimTime t, DropReason why);
  /// A frame dropped on arrival joins the run being built (FramesDropped),
  /// which is published first if the frame cannot join it.
  void drop_on_arrival(const Packet& p, DropReason why);
  /// Publishes the run being built, if any.
  void flush_run();
  /// The last instant a run that starts at `t` may reach: the first sample
  /// instant at or after `t`, or the stop time if that is earlier.
  SimTime run_bound(SimTime t) const;
  bool has_buffers(uint64_t need) const;
  /// The used entries published at `t` raise an interrupt: the host's CPU
  /// for signalling it.
  void signal_used(SimTime t);

  Shared& shared_;
  QueueEvents events_;  ///< what this side publishes (queue_events.hpp)
  const CostModel& costs_;
  Options opt_;
  Dispatcher& feed_;

  Fifo<Packet> tap_;  ///< keeps its storage: a deque took a block every 16 frames
  /// vhost: how many frames at the front of tap_ have left the tap's ring for
  /// the backend's own batch (they no longer count against its capacity).
  uint32_t batch_ = 0;
  std::optional<Packet> next_;   ///< the next frame on the wire, not yet arrived
  bool source_pending_ = false;  ///< no next_ yet: nothing for this queue is known before pending_until_
  SimTime pending_until_ = 0;
  /// Arrivals are known up to this time (infinite unless the source is pending).
  SimTime known_until() const;


  LazyRng service_rng_;  ///< exponential service times (costs.host.service_distribution), drawn only then
  ActorClock clock_;
  std::array<uint64_t, kChainFaults> bad_chains_{};
  std::vector<uint16_t> discarded_;  ///< faulty chains to return after the current frame
  bool broken_ = false;
  uint64_t lost_fates_ = 0;  ///< frames a breaking device lost from its tap, not yet counted
  SimTime broken_at_ = 0;
  bool waiting_for_kick_ = false;
  bool asleep_ = false;  ///< the backend thread went to sleep on an empty tap (latency.backend_wakeup_ns)
  UsedTimeline::Entry batch_used_{.time = 0, .chains = 0};  ///< vhost: used and not yet published
  Count admitted_;
  std::array<Count, kDropReasons> dropped_{};
  /// Runs of drops on arrival: on unless a closed-loop source hears each
  /// frame's fate or fault windows are configured (the faults metric's
  /// phases can change between two frames of a run: models/metrics/faults.cpp).
  bool drop_runs_ = false;
  struct Run {
    uint64_t count = 0;
    uint64_t bytes = 0;
    uint64_t first_packet = 0;
    SimTime first = 0, last = 0;
    SimTime bound = 0;       ///< a frame arriving after this starts a new run
    bool measured = false;  ///< the run's frames arrived at or after the warm-up
    DropReason reason = DropReason::TapFull;
  } run_;
};

}  // namespace vringsim

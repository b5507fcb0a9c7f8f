// The guest driver actor (virtio-net's receive path): fills the ring through
// the policy, sleeps until an interrupt, then runs NAPI polls of up to
// `budget` packets, hands packets to the stack, refills by the 2008 or
// today's rule and kicks the host.
//
// A whole poll is computed at once and the actor sleeps for its cost; each
// packet's delivery is stamped with its own time within the poll.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "sim/core/cost_model.hpp"
#include "sim/core/faults.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/settings.hpp"
#include "sim/core/guest_memory.hpp"
#include "sim/core/policy.hpp"
#include "sim/engine/actor_clock.hpp"
#include "sim/engine/cores.hpp"
#include "sim/world/queue_events.hpp"
#include "sim/world/shared.hpp"

namespace vringsim {

class GuestDriver {
 public:
  /// The driver's settings from the scenario (DriverSettings: guest.*,
  /// bound to their parameters) and what the world adds.
  struct Options : DriverSettings {
    const FaultPlan* faults = nullptr;
    uint64_t seed = 0;
    /// The vCPU this queue's NAPI runs on, when queues share vCPUs (null: one of its own).
    CorePool* vcpu = nullptr;
    /// Skip the sleeps no other actor can cut short (actor_clock.hpp; one receive queue only).
    bool lookahead = false;
    LatencySettings latency;
  };
  GuestDriver(Shared& shared, RxPolicy& policy, GuestMemory& memory, const CostModel& costs, Options opt);

  /// The actor's body: probe's fill, then interrupts and NAPI polls as
  /// long as the run lasts.
  Task<void> run();
  /// Runs as a task of `loop` (task_loop.hpp), not as an actor of its own.
  void run_on(TaskLoop& loop) { clock_.attach(&loop); }

  // For the conservation check at the end of a run.
  uint64_t collected_packets() const { return collected_; }
  uint64_t collected_bytes() const { return collected_bytes_; }
  /// Packets taken in the current poll whose delivery falls after `t`.
  uint64_t processing_after(SimTime t, uint64_t* bytes) const;
  /// Chains the driver has posted and not collected (vi->num).
  uint64_t posted_chains() const { return posted_; }
  /// Buffers returned shorter than a header (rx_length_errors).
  uint64_t rx_length_errors() const { return rx_length_errors_; }
  /// Frames the attached XDP program dropped (guest.xdp_action drop).
  uint64_t xdp_drops() const { return xdp_drops_; }
  const Options& options() const { return opt_; }
  /// For the liveness check: the driver sleeps until an interrupt, with no
  /// timer of its own (no publication it knows of, no refill retry).
  bool waiting_for_interrupt_only() const { return waiting_forever_; }
  /// Faulty chains this (misbehaving) guest posted, by ChainFault.
  const std::array<uint64_t, kChainFaults>& injected() const { return injected_; }
  /// After the run, once the books have the driver's counts: frees the
  /// record of every posted chain (a ring entry's 48 bytes).
  void release_postings() { std::vector<Posting>().swap(postings_); }

 private:
  Task<void> wait_for_interrupt();
  /// The device raised an interrupt at `t` (Shared::on_interrupt).
  void interrupt_raised(SimTime t);
  Task<bool> poll(double extra_ns);
  Posting& posting_of(uint32_t head);
  /// The chain at `head` is back and its memory dealt with: its posting's
  /// storage goes to the policy for the next one.
  void spend_posting(uint32_t head);
  /// A buffer returned shorter than a header: counted and freed.
  void drop_short_buffer(const UsedElem& used, SimTime start, double& cost_ns);
  /// Collects a frame's buffers and hands it to the stack.
  void receive_frame(const UsedElem& first, SimTime start, double& cost_ns);
  /// try_fill_recv(); `from_work`: run by the refill work (a retry), not by NAPI.
  Task<void> refill(bool from_work = false);
  /// refill() on the vCPU, taken for it (queues sharing a vCPU take turns).
  Task<void> refill_on_vcpu(bool from_work);
  bool should_refill() const;
  Step busy_until(SimTime start, SimTime end);
  /// The driver's time: the run's nanoseconds (sim_time.hpp).
  SimTime now() const { return clock_.now(); }
  /// After taking the vCPU (CoreHold): the time is SimGrid's again if it had to wait.
  void took_vcpu();
  /// While a vcpu_stall window is open the vCPU runs nothing: wait it out.
  Step stall_if_descheduled() { return opt_.faults ? stall_in_window() : Step{}; }
  Step stall_in_window();
  void post_fault(uint16_t head);

  Shared& shared_;
  QueueEvents events_;  ///< what this side publishes (queue_events.hpp)
  RxPolicy& policy_;
  GuestMemory& memory_;
  const CostModel& costs_;
  Options opt_;

  std::vector<Posting> postings_;  ///< by head: what each posted chain holds (no segs: none posted there)
  uint64_t posted_ = 0;                           ///< vi->num: chains posted and not yet collected
  uint64_t max_posted_ = 0;                       ///< vi->max
  uint64_t collected_ = 0;                        ///< packets taken off the used ring
  uint64_t collected_bytes_ = 0;
  std::optional<SimTime> retry_at_;
  uint64_t rx_length_errors_ = 0;
  uint64_t xdp_drops_ = 0;
  std::array<uint64_t, kChainFaults> injected_{};
  LazyRng fault_rng_;  ///< drawn only when the scenario injects bad chains
  bool waiting_forever_ = false;
  ActorClock clock_;
  /// NAPI: Idle (interrupts enabled, the driver asleep), Scheduled (an
  /// interrupt raised, its handler due at handler_at_), Polling.
  enum class Napi { Idle, Scheduled, Polling };
  Napi napi_ = Napi::Idle;
  SimTime handler_at_ = 0;
  uint32_t late_interrupts_ = 0;  ///< raised after NAPI was scheduled, not yet paid for

  struct InPoll {
    SimTime delivery;
    uint32_t len;
  };
  std::vector<InPoll> in_poll_;
  std::vector<ReturnedBuffer> bufs_;  ///< scratch
  std::vector<uint16_t> heads_;       ///< scratch
};

}  // namespace vringsim

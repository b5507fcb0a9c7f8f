// CPU cores shared by several threads (backend threads on a host core group,
// or a guest's receive queues on one vCPU).
//
// A thread holds a core for one unit of work (a device service burst of at
// most host.burst_packets frames, as vhost-net hands back its worker after a
// weight's worth; a NAPI poll of at most the budget) and then queues for one
// again. The units are the same bursts the actors already compute at once,
// so the frames' times stay exact within a unit. A pool with at least one
// core per thread never waits and changes nothing. Which waiting thread a
// freed core goes to is the pool's rule (docs/model.md §7 "Shared cores"):
//   - Fifo, a vCPU's receive queues: net_rx_action() (net/core/dev.c) polls
//     the NAPI instances on its CPU's poll_list in order and puts one that
//     used its whole budget back at the tail: first come, first served.
//   - Fair, a host core group's backend threads: the host's scheduler runs
//     the runnable thread that has had the least CPU time (CFS,
//     kernel/sched/fair.c: pick_next_entity() takes the leftmost entity of
//     the tree ordered by vruntime, which update_curr() advances by the time
//     run; equal weights), equal times in the order they queued (an entity
//     goes right of its equals in __enqueue_entity()). A thread that slept
//     comes back no more than a sleeper's credit behind the least-run
//     thread (place_entity(): max(its vruntime, min_vruntime - thresh)).
//     With every thread's time counted, identical backends get equal shares
//     whatever order they first queued in; with first come, first served
//     the order of the first simultaneous requests set each one's share for
//     the whole run (tests/shuffle found it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/engine/sim_time.hpp"
#include "sim/engine/task.hpp"
#include "sim/engine/task_loop.hpp"

namespace vringsim {

class CorePool {
 public:
  enum class Rule : uint8_t { Fifo, Fair };
  /// A thread of a Fair pool (add_thread()).
  using Thread = uint32_t;
  /// `sleeper_credit_s`: Fair, place_entity()'s thresh.
  CorePool(uint32_t cores, uint32_t threads, Rule rule = Rule::Fifo, double sleeper_credit_s = 0)
      : awake_(threads), credit_ns_(to_sim_time(sleeper_credit_s)) {
    if (threads > cores) slots_.emplace(cores, rule == Rule::Fair);
    if (rule == Rule::Fair) runs_.reserve(threads);
  }
  /// More threads than cores: holding a core can mean waiting for one.
  bool contended() const { return slots_.has_value(); }
  /// A thread of a Fair pool: the one whose time acquire(t) and release(t) count.
  Thread add_thread() {
    runs_.push_back({});
    return static_cast<Thread>(runs_.size() - 1);
  }
  /// Takes a core (only a contended pool has any to wait for).
  Step acquire() {
    if (!slots_) return {};
    return wait(slots_->acquire());
  }
  Step release() {
    if (!slots_) return {};
    return wait(slots_->release());
  }
  /// Thread `t` of a Fair pool takes a core: the least run first.
  Step acquire(Thread t) {
    if (!slots_) return {};
    return fair_acquire(t);
  }
  /// Thread `t` gives its core back: the time it held it counts.
  Step release(Thread t) {
    if (!slots_) return {};
    Run& r = runs_[t];
    r.vruntime_ns += slots_->clock() - r.since;
    return wait(slots_->release());
  }
  /// Its threads run as tasks of `loop` (task_loop.hpp).
  void run_on(TaskLoop& loop) {
    if (slots_) slots_->run_on(loop);
  }

  // Idleness, for a vCPU (guest halts): it is idle while every thread it
  // runs sleeps. Threads start awake.
  /// A thread goes to sleep at `t`.
  void thread_sleeps(SimTime t) {
    if (awake_ > 0 && --awake_ == 0) idle_since_ = t;
  }
  /// A thread is woken at `t`: how long the pool had been idle (0 if another
  /// thread was awake).
  SimTime thread_wakes(SimTime t) {
    const SimTime idle = awake_ == 0 ? t - idle_since_ : 0;
    ++awake_;
    return idle;
  }

 private:
  static Task<void> wait(Wait w) { co_await w; }
  Task<void> fair_acquire(Thread t) {
    Run& r = runs_[t];
    // place_entity(): no further behind than the credit (a thread that never
    // slept is never that far behind: this changes nothing for it).
    r.vruntime_ns = std::max(r.vruntime_ns, min_vruntime_ns_ - credit_ns_);
    co_await slots_->acquire_by(r.vruntime_ns);
    // update_min_vruntime(): the time of the least-run thread, taken at each
    // turn's start (CFS also moves it as the running thread runs), never
    // going back.
    min_vruntime_ns_ = std::max(min_vruntime_ns_, r.vruntime_ns);
    r.since = slots_->clock();
  }
  /// A Fair pool's thread: the core time it has had (vruntime, the run's
  /// nanoseconds: sums of turns compare equal when they are), and since when
  /// it holds a core.
  struct Run {
    SimTime vruntime_ns = 0;
    SimTime since = 0;
  };
  std::optional<Semaphore> slots_;
  std::vector<Run> runs_;
  SimTime min_vruntime_ns_ = 0;
  uint32_t awake_;
  SimTime credit_ns_;
  SimTime idle_since_ = 0;
};

}  // namespace vringsim

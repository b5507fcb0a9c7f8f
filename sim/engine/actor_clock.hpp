// An actor's own clock, for conservative lookahead between the device and
// the driver of one receive queue.
//
// An actor about to sleep until `t` asks whether any other actor could run
// before then: the other side of the queue (its wake-up time, published in
// Shared), the sampler, the controller (the end of the run, or a finite
// source drained). If none can, the task loop would only move its clock and
// resume this same task, so the task moves its own clock instead and spares
// the loop a suspension; the events, their order and every figure stay the
// same (tests compare runs with and without). Before anything another task
// sees at once (a kick or an interrupt, the last fates of a finite source)
// or a timed wait, the loop's clock is brought up to the task's (sync). With
// several receive queues the lookahead is off: other queues' tasks and
// shared cores could run in between.
//
// Times are the run's integer nanoseconds (sim_time.hpp): the sleeps skipped
// and the one sync that replaces them land on the same instant, exactly. A
// skip stops short of any instant another task is due at (strictly before
// it): at that instant the loop's rule orders the two (docs/model.md §7).
#pragma once

#include <simgrid/s4u/Engine.hpp>

#include "sim/engine/blocking.hpp"
#include "sim/engine/run_state.hpp"
#include "sim/engine/sim_time.hpp"
#include "sim/engine/task.hpp"
#include "sim/engine/task_loop.hpp"

namespace vringsim {

class ActorClock {
 public:
  /// `mine`: where this actor publishes when it may run next; `other`: where
  /// the other side of the queue publishes its own.
  ActorClock(const RunState& run, SimTime& mine, const SimTime& other) : run_(run), mine_(mine), other_(other) {}

  void enable(bool on) { enabled_ = on; }
  /// The actor's time: the loop's clock, or ahead of it by sleeps skipped.
  SimTime now() const { return now_; }

  /// Sleeps until `t` (at once if `t` is not later than now).
  Step sleep_to(SimTime t) {
    if (t <= now_) return {};  // no wait
    if (nobody_runs_before(t)) {
      now_ = t;
      return {};
    }
    return sleep_in_engine(t);
  }
  /// Whether a sleep until `t` would be skipped: no other actor can run before.
  bool can_skip_to(SimTime t) const { return nobody_runs_before(t); }
  /// Brings the loop's clock up to the actor's.
  Step sync() {
    if (now_ > clock()) return catch_up();
    resync();
    return {};
  }
  /// Back from a wait in the loop: the actor's time is the loop's again.
  void resync() { now_ = clock(); }
  /// The actor runs as a task of `loop` (task_loop.hpp).
  void attach(TaskLoop* loop) { loop_ = loop; }
  /// The task loop's clock (SimGrid's, before one is attached).
  SimTime clock() const { return clock_of(loop_); }
  /// Before a wait that ends at `t` (a timed wait), or that only the other
  /// side ends (kNever: it sets the time when it does), or that nothing
  /// here can tell (kAnyTime: a shared core).
  void waiting_until(SimTime t) { mine_ = t; }
  /// Before a wait that only the other side's kick or interrupt ends: it
  /// sets the time when it sends one, so the loop's clock need not catch up.
  /// One already sent (`token_pending`) ends the wait now, after the tasks
  /// due now have run: then it must.
  Step waiting_for_other(bool token_pending) {
    if (token_pending) return sync_then_wait();
    waiting_until(kNever);
    return {};
  }
  /// Before the actor's last fates go in: the controller may end the run at once.
  Step sync_if_ending() {
    if (run_.exhausted_queues != run_.queues) return {};
    return sync_for_end();
  }

 private:
  Task<void> sleep_in_engine(SimTime t) {
    co_await sync();
    mine_ = t;
    co_await vringsim::sleep_until(loop_, t);
    resync();
  }
  Task<void> catch_up() {
    mine_ = now_;
    co_await vringsim::sleep_until(loop_, now_);
    resync();
  }
  Task<void> sync_then_wait() {
    co_await sync();
    waiting_until(now_);
  }
  Task<void> sync_for_end() {
    co_await sync();
    // The controller ends the run at SimGrid's own clock.
    if (loop_) blocking::sleep_until(seconds(now_));
  }
  bool nobody_runs_before(SimTime t) const {
    return enabled_ && t < other_ && t < run_.sampler_wakes_at && t < run_.stop_time && !run_.drained_released;
  }

  const RunState& run_;
  SimTime& mine_;
  const SimTime& other_;
  bool enabled_ = false;
  SimTime now_ = 0;
  TaskLoop* loop_ = nullptr;
};

}  // namespace vringsim

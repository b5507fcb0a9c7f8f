// An actor's own clock, for conservative lookahead between the device and
// the driver of one receive queue.
//
// An actor about to sleep until `t` asks whether any other actor could run
// before then: the other side of the queue (its wake-up time, published in
// Shared), the sampler, the controller (the end of the run, or a finite
// source drained). If none can, SimGrid would only move its clock and
// resume this same actor, so the actor moves its own clock instead and
// spares the engine an activity and two context switches; the events, their
// order and every figure stay the same (tests compare runs with and without).
// Before anything another actor sees at once (a kick or an interrupt, the
// last fates of a finite source) or a timed wait, SimGrid's clock is brought
// up to the actor's (sync). With several receive queues the lookahead is
// off: other queues' actors and shared cores could run in between.
//
// Times must come out bit for bit as SimGrid's: its clock moves from s to t
// by s + (t - s), exact only when t <= 2s (Sterbenz: t - s is then exact).
// Skipping stays within twice SimGrid's clock, so the sleeps skipped and the
// one sync that replaces them land on the same doubles. (Without that bound,
// a driver 80 us ahead at 32 us synced to a clock an ulp short of its own,
// and the device took buffers "before" they were posted.) And SimGrid ends
// a sleep whose remaining time is under its timing precision (surf/precision, 1 ns) at the
// step it is in, so no skip is that short or lands that close before
// another actor's wake-up.
#pragma once

#include <simgrid/s4u/Engine.hpp>
#include <xbt/config.hpp>

#include <limits>

#include "sim/engine/blocking.hpp"
#include "sim/engine/run_state.hpp"
#include "sim/engine/task.hpp"
#include "sim/engine/task_loop.hpp"

namespace vringsim {

class ActorClock {
 public:
  /// `mine`: where this actor publishes when it may run next; `other`: where
  /// the other side of the queue publishes its own.
  ActorClock(const RunState& run, double& mine, const double& other) : run_(run), mine_(mine), other_(other) {}

  void enable(bool on) { enabled_ = on; }
  /// The actor's time: SimGrid's clock, or ahead of it by sleeps skipped.
  double now() const { return now_; }

  /// Sleeps until `t` (at once if `t` is not later than now).
  Step sleep_to(double t) {
    if (t <= now_) return {};  // as SimGrid's sleep_until: no wait
    if (nobody_runs_before(t)) {
      now_ += t - now_;  // SimGrid's clock would go from now_ to now_ + (t - now_): the same sum
      return {};
    }
    return sleep_in_engine(t);
  }
  /// Whether a sleep until `t` would be skipped: no other actor can run before.
  bool can_skip_to(double t) const { return nobody_runs_before(t); }
  /// Brings SimGrid's clock up to the actor's.
  Step sync() {
    if (now_ > clock()) return catch_up();
    resync();
    return {};
  }
  /// Back from a wait in SimGrid: the actor's time is SimGrid's again.
  void resync() { now_ = clock(); }
  /// The actor runs as a task of `loop` (task_loop.hpp).
  void attach(TaskLoop* loop) { loop_ = loop; }
  /// SimGrid's clock, or the task loop's.
  double clock() const { return clock_of(loop_); }
  /// Before a wait that ends at `t` (a timed wait), or that only the other
  /// side ends (infinity: it sets the time when it does), or that nothing
  /// here can tell (minus infinity: a shared core).
  void waiting_until(double t) { mine_ = t; }
  /// Before a wait that only the other side's kick or interrupt ends: it
  /// sets the time when it sends one, so SimGrid's clock need not catch up.
  /// One already sent (`token_pending`) ends the wait now, after the actors
  /// due now have run: then it must.
  Step waiting_for_other(bool token_pending) {
    if (token_pending) return sync_then_wait();
    waiting_until(std::numeric_limits<double>::infinity());
    return {};
  }
  /// Before the actor's last fates go in: the controller may end the run at once.
  Step sync_if_ending() {
    if (run_.exhausted_queues != run_.queues) return {};
    return sync_for_end();
  }

 private:
  Task<void> sleep_in_engine(double t) {
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
    if (loop_) blocking::sleep_until(now_);
  }
  bool nobody_runs_before(double t) const {
    // SimGrid ends a sleep whose remaining time falls under its timing
    // precision at the step it is in: a sleep that short, or another
    // actor's wake-up that close after `t`, is SimGrid's to resolve.
    const double margin = 2 * precision_;
    return enabled_ && t - now_ > margin && t + margin < other_ && t + margin < run_.sampler_wakes_at &&
           t + margin < run_.stop_time && !run_.drained_released && t <= 2 * clock();
  }

  const RunState& run_;
  double& mine_;
  const double& other_;
  bool enabled_ = false;
  double now_ = 0;
  const double precision_ = simgrid::config::get_value<double>("surf/precision");
  TaskLoop* loop_ = nullptr;
};

}  // namespace vringsim

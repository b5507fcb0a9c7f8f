// CPU cores shared by several threads (backend threads on a host core group,
// or a guest's receive queues on one vCPU).
//
// A thread holds a core for one unit of work (a device service burst of at
// most host.burst_packets frames, as vhost-net hands back its worker after a
// weight's worth; a NAPI poll of at most the budget) and then queues for one
// again behind the threads already waiting (FIFO): with k busy threads on n <
// k cores each gets n/k of the time, in turns. The units are the same bursts
// the actors already compute at once, so the frames' times stay exact within
// a unit. A pool with at least one core per thread never waits and changes
// nothing.
#pragma once

#include <cstdint>
#include <optional>

#include "sim/world/task.hpp"
#include "sim/world/task_loop.hpp"

namespace vringsim {

class CorePool {
 public:
  CorePool(uint32_t cores, uint32_t threads) : awake_(threads) {
    if (threads > cores) slots_.emplace(cores);
  }
  /// More threads than cores: holding a core can mean waiting for one.
  bool contended() const { return slots_.has_value(); }
  /// Takes a core (only a contended pool has any to wait for).
  Step acquire() {
    if (!slots_) return {};
    return wait(slots_->acquire());
  }
  Step release() {
    if (!slots_) return {};
    return wait(slots_->release());
  }
  /// Its threads run as tasks of `loop` (task_loop.hpp).
  void run_on(TaskLoop& loop) {
    if (slots_) slots_->run_on(loop);
  }

  // Idleness, for a vCPU (guest halts): it is idle while every thread it
  // runs sleeps. Threads start awake.
  /// A thread goes to sleep at `t`.
  void thread_sleeps(double t) {
    if (awake_ > 0 && --awake_ == 0) idle_since_ = t;
  }
  /// A thread is woken at `t`: how long the pool had been idle (0 if another
  /// thread was awake).
  double thread_wakes(double t) {
    const double idle = awake_ == 0 ? t - idle_since_ : 0.0;
    ++awake_;
    return idle;
  }

 private:
  static Task<void> wait(Wait w) { co_await w; }
  std::optional<Semaphore> slots_;
  uint32_t awake_;
  double idle_since_ = 0;
};

}  // namespace vringsim

// Every call by which an actor hands control to SimGrid and may wait: a
// timed sleep, a semaphore taken. Each is an activity in the engine (its
// solver step and, when it waits, two context switches), the main cost of a
// packet at low load. They are counted here for bench/ (per delivered
// packet); the count never reaches a run's results.
#pragma once

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Semaphore.hpp>
#include <xbt/config.hpp>

#include <cstdint>

#include "sim/engine/sim_time.hpp"

namespace vringsim::blocking {

/// Calls made in this process (one engine per process; its actors run one at a time).
inline uint64_t calls = 0;
/// Calls that suspended a task of the task loop (task_loop.hpp): its sleeps,
/// its waits on a semaphore, its releases to a waiter.
inline uint64_t loop_waits = 0;

/// SimGrid's timing precision under the run's nanosecond (sim_time.hpp), so
/// that it never ends two instants of the loop in one step. Once per engine,
/// before it runs.
inline void use_nanosecond_clock() { simgrid::config::set_value<double>("surf/precision", kEnginePrecisionS); }

inline void sleep_until(double t) {
  if (t <= simgrid::s4u::Engine::get_clock()) return;  // SimGrid returns at once: no activity
  ++calls;
  simgrid::s4u::this_actor::sleep_until(t);
}
inline void acquire(const simgrid::s4u::SemaphorePtr& s) {
  ++calls;
  s->acquire();
}
/// True if `timeout_s` passed first.
inline bool acquire_timeout(const simgrid::s4u::SemaphorePtr& s, double timeout_s) {
  ++calls;
  return s->acquire_timeout(timeout_s);
}

}  // namespace vringsim::blocking

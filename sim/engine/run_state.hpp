// The state of the whole run that its tasks and actors share: the event bus,
// the stop time, drain detection over every receive queue (for stop.packets
// and finite sources) and when the sampler runs next, which the task loop
// and the lookahead must not pass.
#pragma once

#include <simgrid/s4u/Semaphore.hpp>

#include <cstdint>

#include "sim/core/events.hpp"
#include "sim/engine/sim_time.hpp"

namespace vringsim {

struct RunState {
  explicit RunState(uint32_t queues) : bus(queues), queues(queues) {}

  EventBus bus;
  SimTime stop_time = 0;  ///< the end of the run (stop.time_s)
  const uint32_t queues;  ///< receive queues in the run

  // Drain detection for stop.packets and finite sources: every admitted
  // frame gets a fate (delivered or dropped), counted once the actor
  // deciding it has reached the fate's time.
  simgrid::s4u::SemaphorePtr drained = simgrid::s4u::Semaphore::create(0);
  uint32_t exhausted_queues = 0;  ///< queues that will be sent nothing more
  uint64_t admitted = 0;
  uint64_t fates = 0;
  bool drained_released = false;

  void add_fates(uint64_t n) {
    fates += n;
    if (n && exhausted_queues == queues && fates == admitted) {
      drained->release();
      drained_released = true;  // the controller runs now
    }
  }

  /// When the sampler runs next (kNever once it has stopped): the task
  /// loop stops there for it, and no lookahead passes it.
  SimTime sampler_wakes_at = 0;
  void stop_sampling() { sampler_wakes_at = kNever; }
};

}  // namespace vringsim

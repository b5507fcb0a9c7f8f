// State the actors share. RunState is the whole run's: the event bus, the
// stop time and drain detection over every receive queue. Shared is one
// receive queue's: the virtqueue in guest memory, the per-chain data the
// device writes into guest buffers (the packet and num_buffers, kept beside
// the ring rather than in byte arrays), and the wake-ups that stand for kicks
// and interrupts.
#pragma once

#include <simgrid/s4u/Semaphore.hpp>

#include <cstdint>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/virtqueue.hpp"

namespace vringsim {

struct RunState {
  explicit RunState(uint32_t queues) : bus(queues), queues(queues) {}

  EventBus bus;
  double stop_time = 0;
  const uint32_t queues;  ///< receive queues in the run

  // Drain detection for stop.packets and finite sources: every admitted
  // frame gets a fate (delivered or dropped), counted once the actor
  // deciding it has reached the fate's time.
  simgrid::s4u::SemaphorePtr drained = simgrid::s4u::Semaphore::create(0);
  uint32_t exhausted_queues = 0;  ///< queues that will be sent nothing more
  uint64_t admitted = 0;
  uint64_t fates = 0;

  void add_fates(uint64_t n) {
    fates += n;
    if (n && exhausted_queues == queues && fates == admitted) drained->release();
  }
};

struct Shared {
  Shared(RunState& run, uint32_t ring_size, uint32_t queue = 0)
      : run(run), queue(queue), ring(ring_size), packet_at(ring_size), num_buffers_at(ring_size, 0) {}

  RunState& run;
  const uint32_t queue;  ///< global receive-queue index, stamped on every event

  VirtQueue ring;
  /// What the device wrote at the head of a chain: the frame, and (first
  /// chain of a frame) the header's num_buffers.
  std::vector<Packet> packet_at;
  std::vector<uint32_t> num_buffers_at;

  simgrid::s4u::SemaphorePtr guest_wake = simgrid::s4u::Semaphore::create(0);
  simgrid::s4u::SemaphorePtr host_kick = simgrid::s4u::Semaphore::create(0);
  bool guest_idle = false;  ///< the guest waits for an interrupt
  bool source_exhausted = false;

  double stop_time() const { return run.stop_time; }
  /// Publishes an event of this queue.
  template <class E>
  void emit(E e) {
    e.queue = queue;
    run.bus.emit(e);
  }
  /// Publishes a CPU busy span from `start` to `end`.
  void emit_busy(Cpu cpu, double start, double end) { emit(CpuBusy{start, queue, end, cpu}); }
  void mark_exhausted() {
    if (source_exhausted) return;
    source_exhausted = true;
    ++run.exhausted_queues;
  }
  void add_fates(uint64_t n) { run.add_fates(n); }
};

}  // namespace vringsim

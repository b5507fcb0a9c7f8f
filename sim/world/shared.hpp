// State the host device and guest driver actors share: the virtqueue in
// guest memory, the per-chain data the device writes into guest buffers (the
// packet and num_buffers, kept beside the ring rather than in byte arrays),
// the event bus, and the wake-ups that stand for kicks and interrupts.
#pragma once

#include <simgrid/s4u/Semaphore.hpp>

#include <cstdint>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/virtqueue.hpp"

namespace vringsim {

struct Shared {
  explicit Shared(uint32_t ring_size) : ring(ring_size), packet_at(ring_size), num_buffers_at(ring_size, 0) {}

  VirtQueue ring;
  EventBus bus;
  /// What the device wrote at the head of a chain: the frame, and (first
  /// chain of a frame) the header's num_buffers.
  std::vector<Packet> packet_at;
  std::vector<uint32_t> num_buffers_at;

  double stop_time = 0;

  simgrid::s4u::SemaphorePtr guest_wake = simgrid::s4u::Semaphore::create(0);
  simgrid::s4u::SemaphorePtr host_kick = simgrid::s4u::Semaphore::create(0);
  simgrid::s4u::SemaphorePtr drained = simgrid::s4u::Semaphore::create(0);
  bool guest_idle = false;  ///< the guest waits for an interrupt

  // Drain detection for stop.packets: every admitted frame gets a fate
  // (delivered or dropped), counted once the actor deciding it has reached
  // the fate's time.
  bool source_exhausted = false;
  uint64_t admitted = 0;
  uint64_t fates = 0;
  /// Publishes a CPU busy span (HostBusy or GuestBusy) from `start` to `end`.
  void emit_busy(EventKind kind, double start, double end) {
    Event e;
    e.time = start;
    e.kind = kind;
    e.until = end;
    bus.emit(e);
  }

  void add_fates(uint64_t n) {
    fates += n;
    if (n && source_exhausted && fates == admitted) drained->release();
  }
};

}  // namespace vringsim

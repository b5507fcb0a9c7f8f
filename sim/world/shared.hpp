// State the actors share. RunState is the whole run's: the event bus, the
// stop time and drain detection over every receive queue. Shared is one
// receive queue's: the virtqueue in guest memory, the per-chain data the
// device writes into guest buffers (the packet and num_buffers, kept beside
// the ring rather than in byte arrays), the used entries the device has
// finished but not yet published, and the one channel the device and the
// driver notify each other on. The actors never call each other: whether a
// kick or an interrupt is due is the ring's to say, from the flags each side
// writes into it (VRING_USED_F_NO_NOTIFY, VRING_AVAIL_F_NO_INTERRUPT) or, with
// RING_EVENT_IDX, the event indexes (avail_event, used_event), as Linux's
// virtqueue_kick_prepare and QEMU's virtio_should_notify read them.
#pragma once

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/fifo.hpp"
#include "sim/core/virtqueue.hpp"
#include "sim/world/blocking.hpp"
#include "sim/world/fiber_loop.hpp"

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
  bool drained_released = false;

  void add_fates(uint64_t n) {
    fates += n;
    if (n && exhausted_queues == queues && fates == admitted) {
      drained->release();
      drained_released = true;  // the controller runs now
    }
  }

  /// When the sampler runs next (+infinity once it has stopped): the
  /// driver's lookahead (GuestDriver::sleep_to) never passes it.
  double sampler_wakes_at = 0;
  void stop_sampling() { sampler_wakes_at = std::numeric_limits<double>::infinity(); }
};

/// The device works a burst ahead: it knows when each frame it took will be
/// done, and publishes that frame's used entries then (virtqueue_flush at
/// that time). Whoever looks at the used ring first brings it up to date.
class UsedTimeline {
 public:
  struct Entry {
    double time;
    uint32_t chains;
    Packet packet;
    bool is_packet = true;  ///< false: faulty chains returned unused
  };
  void push(const Entry& e) { entries_.push_back(e); }
  /// Publishes on `ring` every entry finished by `t`.
  void publish_due(VirtQueue& ring, double t) {
    uint32_t chains = 0;
    while (!entries_.empty() && entries_.front().time <= t) {
      chains += entries_.front().chains;
      if (entries_.front().is_packet) {
        ++published_packets_;
        published_bytes_ += entries_.front().packet.len;
      }
      entries_.pop_front();
    }
    if (chains) ring.flush_used(chains);
  }
  /// When the next entry will be published, if any is pending.
  std::optional<double> next_time() const {
    return entries_.empty() ? std::nullopt : std::optional<double>(entries_.front().time);
  }
  bool empty() const { return entries_.empty(); }
  // For the books: frames finished and not yet published, and those published.
  uint64_t held_packets() const {
    uint64_t n = 0;
    for (const auto& e : entries_) n += e.is_packet;
    return n;
  }
  uint64_t held_bytes() const {
    uint64_t b = 0;
    for (const auto& e : entries_)
      if (e.is_packet) b += e.packet.len;
    return b;
  }
  uint64_t published_packets() const { return published_packets_; }
  uint64_t published_bytes() const { return published_bytes_; }

 private:
  Fifo<Entry> entries_;  ///< keeps its storage: a deque took a block every 10 frames
  uint64_t published_packets_ = 0, published_bytes_ = 0;
};

struct Shared {
  Shared(RunState& run, uint32_t ring_size, uint32_t queue = 0, bool event_idx = false, bool indirect = false,
         bool packed = false)
      : run(run),
        queue(queue),
        ring(ring_size, event_idx, indirect, packed),
        packet_at(ring_size),
        num_buffers_at(ring_size, 0) {}

  RunState& run;
  const uint32_t queue;  ///< global receive-queue index, stamped on every event

  VirtQueue ring;
  /// What the device wrote at the head of a chain: the frame, and (first
  /// chain of a frame) the header's num_buffers.
  std::vector<Packet> packet_at;
  std::vector<uint32_t> num_buffers_at;

  UsedTimeline used;
  /// Every arrival up to this time has been handed to the device (its tap queue).
  double admitted_until = 0;
  bool source_exhausted = false;

  /// Publishes the used entries the device finished by `t`.
  void publish_due(double t) { used.publish_due(ring, t); }

  // ---- notifications ----------------------------------------------------
  /// Driver -> device, after publishing buffers: a kick, if the device has
  /// not suppressed them (it enables them only while it waits for buffers).
  /// `before_kick` runs first (the driver brings SimGrid's clock up to its
  /// own: the device wakes at the kick's time). Returns whether it was sent.
  template <class BeforeKick>
  bool kick_if_wanted(uint32_t published, BeforeKick&& before_kick) {
    if (!ring.kick_needed(published)) return false;
    before_kick();
    // Before the release, which yields: the device may run and wait again
    // inside it, and publish its own next wake-up then.
    device_wakes_at = clock();
    if (!kick_pending()) kick_sent_at = device_wakes_at;
    kick_.release();
    return true;
  }
  /// The earliest time the device may run next, for the driver's lookahead:
  /// the end of its sleep; +infinity while it waits for a kick (only the
  /// driver's kick wakes it, which resets this to the kick's time); minus
  /// infinity when it cannot be known (it waits for a shared core).
  double device_wakes_at = 0;
  /// The same for the driver: the end of its sleep or timed wait; +infinity
  /// while only an interrupt can wake it.
  double driver_wakes_at = 0;
  /// A kick or an interrupt sent and not yet taken: waiting for one returns
  /// at once (after the actors due at this instant have run).
  bool kick_pending() const { return !kick_.would_block(); }
  bool interrupt_pending() const { return !interrupt_.would_block(); }
  /// The device and the driver run as fibers of one actor (fiber_loop.hpp):
  /// the kick and interrupt semaphores and the clock are its.
  void run_on(FiberLoop& loop) {
    fibers_ = &loop;
    kick_.run_on(loop);
    interrupt_.run_on(loop);
  }
  /// SimGrid's clock, or the fiber loop's.
  double clock() const { return clock_of(fibers_); }
  /// When the oldest kick not yet taken was sent.
  double kick_sent_at = 0;
  /// Device: waits for a kick (and takes the others sent at the same instant).
  void wait_for_kick() {
    kick_.acquire();
    take_kicks();
  }
  /// Device: takes the kicks sent and not taken (they find it already awake).
  void take_kicks() {
    while (kick_pending()) kick_.acquire();
  }
  /// Device -> driver, after finishing frames: an interrupt, if the driver
  /// wants them (its driver enables them only while it sleeps, so a busy
  /// driver finds the frames when its poll ends).
  /// `before_interrupt` runs first (the device brings SimGrid's clock up to
  /// its own: the driver wakes at the interrupt's time).
  template <class BeforeInterrupt>
  void interrupt_if_wanted(BeforeInterrupt&& before_interrupt) {
    if (!ring.should_interrupt()) return;
    before_interrupt();
    driver_wakes_at = clock();  // before the release, as for a kick
    interrupt_.release();
  }
  /// Driver: sleeps with interrupts enabled until one comes or, given a
  /// deadline, until then. Returns true if the deadline passed first.
  bool sleep_until_interrupt(std::optional<double> timeout_s) {
    ring.enable_cb();
    const bool timed_out = interrupt_.acquire(timeout_s);
    ring.disable_cb();
    return timed_out;
  }

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

 private:
  FiberLoop* fibers_ = nullptr;
  // What each side waits on: the device, kicks; the driver, interrupts.
  Semaphore interrupt_{0};
  Semaphore kick_{0};
};

}  // namespace vringsim

// State the actors of one receive queue share (the whole run's is RunState,
// sim/engine/run_state.hpp): the virtqueue in guest memory, the per-chain data the
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
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/fifo.hpp"
#include "sim/core/virtqueue.hpp"
#include "sim/engine/blocking.hpp"
#include "sim/engine/run_state.hpp"
#include "sim/engine/task_loop.hpp"

namespace vringsim {

/// The device works a burst ahead: it knows when each publication of used
/// entries will happen (QEMU: each frame, when it is written; vhost: each
/// batch, vhost_net_signal_used), and the entries become visible then
/// (virtqueue_flush). Whoever looks at the used ring first brings it up to
/// date, and right after each publication the device decides whether it
/// interrupts the guest (virtio_notify / vhost_signal), against the state
/// the driver left in the ring at that time.
class UsedTimeline {
 public:
  struct Entry {
    double time;
    uint32_t chains;
    uint32_t packets = 0;  ///< frames (0: faulty chains returned unused)
    uint64_t bytes = 0;
  };
  void push(const Entry& e) { entries_.push_back(e); }
  /// Publishes on `ring` every entry due by `t`, calling `after(time)` after each.
  template <class After>
  void publish_due(VirtQueue& ring, double t, After&& after) {
    while (!entries_.empty() && entries_.front().time <= t) {
      const Entry e = entries_.front();
      entries_.pop_front();
      published_packets_ += e.packets;
      published_bytes_ += e.bytes;
      if (e.chains) ring.flush_used(e.chains);
      after(e.time);
    }
  }
  /// When the next entry will be published, if any is pending.
  std::optional<double> next_time() const {
    return entries_.empty() ? std::nullopt : std::optional<double>(entries_.front().time);
  }
  bool empty() const { return entries_.empty(); }
  // For the books: frames finished and not yet published, and those published.
  uint64_t held_packets() const {
    uint64_t n = 0;
    for (const auto& e : entries_) n += e.packets;
    return n;
  }
  uint64_t held_bytes() const {
    uint64_t b = 0;
    for (const auto& e : entries_) b += e.bytes;
    return b;
  }
  uint64_t published_packets() const { return published_packets_; }
  uint64_t published_bytes() const { return published_bytes_; }

 private:
  Fifo<Entry> entries_;  ///< keeps its storage: a deque took a block every 10 frames
  uint64_t published_packets_ = 0, published_bytes_ = 0;
};

/// One side's wait for the other: a semaphore released only while its owner
/// waits, and at most once a wait, so no token outlives the wait it ended.
class Wakeup {
 public:
  void run_on(TaskLoop& loop) { sem_.run_on(loop); }
  /// Its owner waits and has not been woken yet: a wake() would end the wait.
  bool waiting() const { return waits_ && !signalled_; }
  /// Ends the wait (call only when waiting()). The release yields: the owner
  /// may run before the caller goes on.
  Wait wake() {
    signalled_ = true;
    return sem_.release();
  }
  /// Waits until woken or, given a deadline, until then. True if the deadline passed first.
  Task<bool> wait(std::optional<double> timeout_s) {
    waits_ = true;
    signalled_ = false;
    const bool timed_out = co_await sem_.acquire(timeout_s);
    waits_ = false;
    // A wake at the instant the wait timed out released a token nobody took.
    if (signalled_ && !sem_.would_block()) co_await sem_.acquire();
    co_return timed_out;
  }
  /// A wake sent and not yet taken.
  bool pending() const { return !sem_.would_block(); }

 private:
  Semaphore sem_{0};
  bool waits_ = false, signalled_ = false;
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
  std::vector<uint16_t> num_buffers_at;  ///< a u16, as virtio_net_hdr_mrg_rxbuf's (at most the ring's 32,768)

  UsedTimeline used;
  /// Every arrival up to this time has been handed to the device (its tap queue).
  double admitted_until = 0;
  bool source_exhausted = false;

  /// Publishes the used entries the device finished by `t`, deciding after
  /// each publication whether the guest is interrupted (`on_interrupt`, set
  /// by the driver, hears each interrupt raised, at its time). The ring
  /// decides, notify-on-empty included (host.notify_on_empty): at that
  /// moment it holds the chains the device took for frames it publishes
  /// later, which count as buffers left (SplitRing::device_out_of_buffers).
  void publish_due(double t) {
    used.publish_due(ring, t, [this](double when) {
      if (!ring.should_interrupt()) return;
      if (on_interrupt) on_interrupt(when);
      if (on_signal) on_signal(when);
    });
  }
  std::function<void(double)> on_interrupt;
  /// The device signals the interrupt (set by the device: its CPU time).
  std::function<void(double)> on_signal;

  // ---- notifications ----------------------------------------------------
  // A kick is an edge, not a token: the guest writes the device's eventfd
  // (ioeventfd); it stays set until the device reads it, and kicks sent
  // before then are the same one. A device waiting for a kick is woken by
  // it; a device that is running finds it when it next looks (a vhost
  // handle_rx queued again, QEMU's main loop) and pays for it then.

  /// Driver -> device, after publishing buffers: whether the ring says the
  /// device wants a kick (VRING_USED_F_NO_NOTIFY, avail_event, the packed
  /// ring's device area, as the device left them).
  bool kick_wanted(uint32_t published) const { return ring.kick_needed(published); }
  /// Sends the kick (after the driver has brought SimGrid's clock up to its
  /// own: the device wakes at the kick's time).
  Step send_kick() {
    const double now = clock();
    if (!kick_pending_) {
      kick_pending_ = true;
      kick_sent_at = now;
    }
    if (!device_wake_.waiting()) return {};
    // Before the release, which yields: the device may run and wait again
    // inside it, and publish its own next wake-up then.
    device_wakes_at = now;
    return wake(device_wake_);
  }
  /// The earliest time the device may run next, for the driver's lookahead:
  /// the end of its sleep; +infinity while it waits for a kick (only the
  /// driver's kick wakes it, which resets this to the kick's time); minus
  /// infinity when it cannot be known (it waits for a shared core).
  double device_wakes_at = 0;
  /// The same for the driver: the end of its sleep or timed wait; +infinity
  /// while only the device can wake it.
  double driver_wakes_at = 0;
  /// A kick sent and not yet taken by the device.
  bool kick_pending() const { return kick_pending_; }
  /// A wake-up sent to the waiting driver and not yet taken.
  bool interrupt_pending() const { return driver_wake_.pending(); }
  /// The device and the driver run as tasks of one actor (task_loop.hpp):
  /// the kick and interrupt semaphores and the clock are its.
  void run_on(TaskLoop& loop) {
    loop_ = &loop;
    device_wake_.run_on(loop);
    driver_wake_.run_on(loop);
  }
  /// SimGrid's clock, or the task loop's.
  double clock() const { return clock_of(loop_); }
  /// When the oldest kick not yet taken was sent.
  double kick_sent_at = 0;
  /// Device: takes the pending kick (and every one sent with it).
  void take_kick() { kick_pending_ = false; }
  /// Device: waits for a kick, at most `timeout_s` if given. True if one came
  /// (it stays pending: take_kick() takes it). A kick already pending ends
  /// the wait at once.
  Task<bool> wait_for_kick(std::optional<double> timeout_s = std::nullopt) {
    if (kick_pending_) co_return true;
    co_await device_wake_.wait(timeout_s);
    co_return kick_pending_;
  }
  /// Device -> driver, after computing a burst: a driver asleep must look at
  /// the used ring again (its next wake-up may now be earlier: the first new
  /// publication). Whether that publication interrupts it is decided when it
  /// happens (publish_due). Only while the driver waits (driver_waiting()),
  /// after the device has brought SimGrid's clock up to its own.
  bool driver_waiting() const { return driver_wake_.waiting(); }
  Step wake_driver() {
    driver_wakes_at = clock();  // before the release, as for a kick
    return wake(driver_wake_);
  }
  /// Driver: sleeps until the device wakes it or, given a deadline, until
  /// then. Returns true if the deadline passed first.
  Task<bool> sleep_until_woken(std::optional<double> timeout_s) { return driver_wake_.wait(timeout_s); }

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
  static Task<void> wake(Wakeup& w) { co_await w.wake(); }
  TaskLoop* loop_ = nullptr;
  // What each side waits on: the device, kicks; the driver, a look at the used ring.
  Wakeup device_wake_, driver_wake_;
  bool kick_pending_ = false;
};

}  // namespace vringsim

// State the actors of one receive queue share (the whole run's is
// RunState, sim/engine/run_state.hpp): the virtqueue in guest memory, the
// per-chain data the device writes into guest buffers (the packet and
// num_buffers, kept beside the ring rather than in byte arrays), the used
// entries the device has finished but not yet published, and the channel
// the device and the driver wake each other on (doorbell.hpp). What each
// side publishes for the metrics goes through its own QueueEvents
// (queue_events.hpp), not through this. The actors
// never call each other: whether a kick or an interrupt is due is the ring's
// to say, from the flags each side writes into it (VRING_USED_F_NO_NOTIFY,
// VRING_AVAIL_F_NO_INTERRUPT) or, with RING_EVENT_IDX, the event indexes
// (avail_event, used_event), as Linux's virtqueue_kick_prepare and QEMU's
// virtio_should_notify read them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/fifo.hpp"
#include "sim/core/virtqueue.hpp"
#include "sim/engine/run_state.hpp"
#include "sim/world/doorbell.hpp"

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
    SimTime time;
    uint32_t chains;
    uint32_t packets = 0;  ///< frames (0: faulty chains returned unused)
    uint64_t bytes = 0;
  };
  void push(const Entry& e) { entries_.push_back(e); }
  /// Publishes on `ring` every entry due by `t`, calling `after(time)` after each.
  template <class After>
  void publish_due(VirtQueue& ring, SimTime t, After&& after) {
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
  std::optional<SimTime> next_time() const {
    return entries_.empty() ? std::nullopt : std::optional<SimTime>(entries_.front().time);
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
  SimTime admitted_until = 0;
  bool source_exhausted = false;

  /// Publishes the used entries the device finished by `t`, deciding after
  /// each publication whether the guest is interrupted (`on_interrupt`, set
  /// by the driver, hears each interrupt raised, at its time). The ring
  /// decides, notify-on-empty included (host.notify_on_empty): at that
  /// moment it holds the chains the device took for frames it publishes
  /// later, which count as buffers left (SplitRing::device_out_of_buffers).
  void publish_due(SimTime t) {
    used.publish_due(ring, t, [this](SimTime when) {
      if (!ring.should_interrupt()) return;
      if (on_interrupt) on_interrupt(when);
      if (on_signal) on_signal(when);
    });
  }
  std::function<void(SimTime)> on_interrupt;
  /// The device signals the interrupt (set by the device: its CPU time).
  std::function<void(SimTime)> on_signal;

  /// Driver -> device, after publishing buffers: whether the ring says the
  /// device wants a kick (VRING_USED_F_NO_NOTIFY, avail_event, the packed
  /// ring's device area, as the device left them).
  bool kick_wanted(uint32_t published) const { return ring.kick_needed(published); }

  /// The channel the device and the driver wake each other on (kicks, the
  /// driver told to look), with when each may run next.
  Doorbell bell;

  SimTime stop_time() const { return run.stop_time; }
  void mark_exhausted() {
    if (source_exhausted) return;
    source_exhausted = true;
    ++run.exhausted_queues;
  }
  void add_fates(uint64_t n) { run.add_fates(n); }

};

}  // namespace vringsim

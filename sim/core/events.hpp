// What actors publish and metrics observe, as s4u's on_* signals and ns-3's
// trace sources do: each kind of event is its own struct with only its own
// fields, published on typed signals; a new metric connects to the signals it
// needs and never edits an actor.
//
// Actors compute a whole service burst or NAPI poll at once, so they publish
// events stamped with when they happen, which may be later than the
// simulated clock at publication. The EventBus buffers them and hands them to
// the signals in (time, publication) order, once no actor can still publish
// an earlier one. Every event goes to the run's signals and to its receive
// queue's own, so a metric can watch one queue, a guest's queues, or the run.
// A figure that any order gives (a count, an exact sum, the union of busy
// spans) may take the events as they are published instead
// (Signal::connect_unordered): a kind nobody wants in time order is never
// buffered.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "sim/core/fifo.hpp"
#include "sim/core/vring_types.hpp"
#include "sim/engine/sim_time.hpp"

namespace vringsim {

enum class DropReason : uint8_t { TapFull = 0, TooLarge = 1, DeviceBroken = 2 };
inline constexpr int kDropReasons = 3;
inline const char* drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::TapFull: return "tap_full";
    case DropReason::TooLarge: return "too_large";
    case DropReason::DeviceBroken: return "device_broken";
  }
  return "?";
}

/// A frame in flight through the model.
struct Packet {
  uint64_t id = 0;
  uint32_t len = 0;      ///< frame bytes, no FCS
  bool segment = false;  ///< cut from a GSO packet by the host (costs.host.per_segment_ns)
  SimTime arrival = 0;   ///< last bit at the host: the run's nanoseconds (sim/engine/sim_time.hpp)
};
// 24 bytes, not 32: every ring entry has one (Shared::packet_at), and every
// frame in a tap queue.
static_assert(sizeof(Packet) == 24);

// ---- the events (every one has `time` and `queue`, the global receive-queue
// index: 0 without a topology) -------------------------------------------------

/// A frame reached the host (it is then queued in the tap, or dropped).
struct FrameArrived {
  double time = 0;
  uint32_t queue = 0;
  uint64_t packet = 0;
  uint32_t len = 0;
};
/// A frame was dropped.
struct FrameDropped {
  double time = 0;
  uint32_t queue = 0;
  uint64_t packet = 0;
  uint32_t len = 0;
  double arrival_s = 0;
  DropReason reason = DropReason::TapFull;
};
/// A run of frames dropped as they arrived (the tap full, or the device
/// broken): it stands for a FrameArrived and a FrameDropped of each, and the
/// device publishes it instead of those. Consecutive arrivals of one queue,
/// all dropped for one reason; stamped with the first's arrival. The device
/// ends a run where a metric could tell its frames apart: at each sample
/// instant (every frame of a run falls in one sample interval, so the time
/// series reads the same counts), at the warm-up (all its frames are in the
/// measured window or none) and at stop.time_s; with fault windows
/// configured, or a closed-loop source (which hears each frame's fate), it
/// publishes frame by frame as before (HostDevice::admit_until).
struct FramesDropped {
  double time = 0;  ///< the first frame's arrival
  uint32_t queue = 0;
  uint64_t packet = 0;  ///< the first frame's id
  uint64_t count = 0;  ///< frames
  uint64_t bytes = 0;  ///< their bytes
  double last = 0;     ///< the last frame's arrival
  DropReason reason = DropReason::TapFull;
};
/// The guest published chains on the avail ring.
struct BuffersPosted {
  double time = 0;
  uint32_t queue = 0;
  uint32_t chains = 0;
  uint64_t bytes = 0;        ///< buffer bytes of those chains
  uint32_t descriptors = 0;  ///< ring descriptors those chains take
  uint64_t table_bytes = 0;  ///< indirect tables of those chains (16 bytes an entry)
};
/// The device took chains from the avail ring for one frame.
struct BuffersTaken {
  double time = 0;
  uint32_t queue = 0;
  uint64_t packet = 0;
  uint16_t head = 0;  ///< the first chain's head
  uint32_t chains = 0;
  uint64_t bytes = 0;        ///< buffer bytes of those chains
  uint32_t descriptors = 0;  ///< descriptors in those chains
};
/// The device finished a frame's chains (they go on the used ring).
struct BuffersUsed {
  double time = 0;
  uint32_t queue = 0;
  uint64_t packet = 0;
  uint16_t head = 0;
  uint32_t chains = 0;
  uint64_t bytes = 0;    ///< buffer bytes of those chains
  uint32_t written = 0;  ///< header and frame bytes written into them
  uint64_t table_bytes = 0;  ///< indirect tables of those chains
};
/// The guest handed a frame to its stack.
struct FrameDelivered {
  double time = 0;
  uint32_t queue = 0;
  uint64_t packet = 0;
  uint32_t len = 0;
  uint32_t buffers = 0;  ///< descriptors the frame was written into
  double arrival_s = 0;
};
/// The guest refilled the ring and notified the host, or skipped the
/// notification because the host suppressed it.
struct KickDecided {
  double time = 0;
  uint32_t queue = 0;
  bool notified = false;
};
/// The host interrupted the guest. If the vCPU had been idle (every queue it
/// runs asleep): for how long, how much of that it was halted (the idle time
/// beyond host.halt_poll_ns; 0: it was polling or running), and the
/// latency.vcpu_wakeup_ns a halted vCPU paid.
struct InterruptRaised {
  double time = 0;
  uint32_t queue = 0;
  double vcpu_idle_s = 0;
  double vcpu_halted_s = 0;
  double wakeup_s = 0;
};
/// The host has a frame and no usable buffer; it waits for a kick.
struct StallBegan {
  double time = 0;
  uint32_t queue = 0;
};
struct StallEnded {
  double time = 0;
  uint32_t queue = 0;
};
enum class Cpu : uint8_t { Host, Guest };
/// A CPU was busy for this queue from `start` to `end`, the run's
/// nanoseconds (`time` is `start` in seconds, for the bus): the CPU metric
/// adds spans exactly, with no conversion back from seconds.
struct CpuBusy {
  double time = 0;
  uint32_t queue = 0;
  Cpu cpu = Cpu::Host;
  SimTime start = 0;
  SimTime end = 0;
};
/// A page allocation failed during a refill.
struct RefillFailed {
  double time = 0;
  uint32_t queue = 0;
};
/// The device found a faulty chain at the front of the avail ring.
struct BadChainFound {
  double time = 0;
  uint32_t queue = 0;
  ChainFault fault = ChainFault::None;
  uint32_t consumed = 0;  ///< avail entries it consumed (0 or 1)
  uint16_t head = 0;
  uint64_t bytes = 0;        ///< buffer bytes of the chain it skipped (no longer posted)
  uint32_t descriptors = 0;  ///< ring descriptors of that chain
  uint64_t table_bytes = 0;  ///< its indirect table
};
/// The device marked itself broken (needs reset) and stopped using the ring.
struct DeviceBroke {
  double time = 0;
  uint32_t queue = 0;
};
/// The guest got a buffer back shorter than a header (rx_length_errors).
struct RxLengthError {
  double time = 0;
  uint32_t queue = 0;
  uint16_t head = 0;
};

/// Every kind, in one list: the bus's variant and the signals' tuple.
template <class... E>
struct EventList {
  using Variant = std::variant<E...>;
  template <template <class> class S>
  using Each = std::tuple<S<E>...>;
};
using Events = EventList<FrameArrived, FrameDropped, FramesDropped, BuffersPosted, BuffersTaken, BuffersUsed, FrameDelivered,
                         KickDecided, InterruptRaised, StallBegan, StallEnded, CpuBusy, RefillFailed, BadChainFound,
                         DeviceBroke, RxLengthError>;
using AnyEvent = Events::Variant;

/// One signal: a flat list of slots (SimGrid's xbt::signal iterates a map of
/// std::function, too slow per packet). Emitting to no slot costs one test.
///
/// Two kinds of slot. connect(): the event in its turn, in (time,
/// publication) order, once no actor can still publish an earlier one: what
/// a subscriber needs whose result depends on order (a level over time, a
/// time series, the trace). connect_unordered(): the event as soon as it is
/// published, in the order the actors publish it (not time order), for a
/// result that is the same in any order (an exact sum, a count, the union of
/// spans: SpanUnion). A kind whose scope has no ordered slot never enters
/// the bus's buffers (EventBus::emit).
template <class E>
class Signal {
 public:
  using Slot = std::function<void(const E&)>;
  void connect(Slot slot) { slots_.push_back(std::move(slot)); }
  void connect_unordered(Slot slot) { unordered_.push_back(std::move(slot)); }
  /// No ordered slot.
  bool empty() const { return slots_.empty(); }
  /// No unordered slot.
  bool no_unordered() const { return unordered_.empty(); }
  /// The ordered slots.
  void operator()(const E& e) const {
    for (const Slot& s : slots_) s(e);
  }
  /// The unordered slots.
  void publish(const E& e) const {
    for (const Slot& s : unordered_) s(e);
  }

 private:
  std::vector<Slot> slots_, unordered_;
};

/// The signals of one scope (the run, or one receive queue): one per event
/// kind, plus `on_time`, called with each event's time before its own
/// signal (for metrics that follow time itself, such as fault windows).
class Signals {
 public:
  template <class E>
  Signal<E>& on() {
    return std::get<Signal<E>>(signals_);
  }
  Signal<double>& on_time() { return time_; }
  /// The event in its turn (time order): on_time, then the ordered slots.
  /// Unordered slots are reached only through EventBus::emit (publish()):
  /// a test driving a bare Signals with emit() does not reach them.
  template <class E>
  void emit(const E& e) const {
    if (!time_.empty()) time_(e.time);
    std::get<Signal<E>>(signals_)(e);
  }
  /// The event as it is published: the unordered slots.
  template <class E>
  void publish(const E& e) const {
    std::get<Signal<E>>(signals_).publish(e);
  }
  /// Whether an event of kind E must wait for its turn in this scope.
  template <class E>
  bool ordered() const {
    return !time_.empty() || !std::get<Signal<E>>(signals_).empty();
  }
  /// Whether an unordered slot wants events of kind E.
  template <class E>
  bool unordered() const {
    return !std::get<Signal<E>>(signals_).no_unordered();
  }
  /// The instant up to which every event has been published: no event
  /// published from now on is stamped before it (EventBus::advance). 0
  /// for signals no bus drives. For unordered slots that keep what a later
  /// event may still change only until then (SpanUnion).
  SimTime settled() const { return settled_ ? *settled_ : 0; }

 private:
  friend class EventBus;
  Events::Each<Signal> signals_;
  Signal<double> time_;
  const SimTime* settled_ = nullptr;
};

/// Index of `E` in the variant `V` (its kind, for the bus's streams).
template <class E, class V>
struct KindOf;
template <class E, class... Es>
struct KindOf<E, std::variant<Es...>> {
  static constexpr size_t value = [] {
    constexpr bool is[] = {std::is_same_v<E, Es>...};
    for (size_t i = 0; i < sizeof...(Es); ++i)
      if (is[i]) return i;
    return sizeof...(Es);
  }();
};

/// Buffers events and dispatches them in (time, emission order). Each
/// (queue, kind) is its own stream: one actor emits a kind for a queue, and
/// mostly in time order, so a stream is a FIFO and only the heads of the
/// non-empty streams sit in a small heap (a single heap of every pending
/// event, 80 bytes each, was half the cost of a packet at line rate). An
/// event stamped earlier than its stream's last goes to a heap of its own.
/// The order of dispatch is exactly (time, emission order) either way.
class EventBus {
 public:
  static constexpr size_t kKinds = std::variant_size_v<AnyEvent>;

  explicit EventBus(uint32_t queues = 1) : queues_(queues), streams_(size_t{queues} * kKinds) {
    run_.settled_ = &settled_;
    for (Signals& q : queues_) q.settled_ = &settled_;
  }
  EventBus(const EventBus&) = delete;  // its signals point at its settled_
  EventBus& operator=(const EventBus&) = delete;
  /// Every queue's events.
  Signals& run() { return run_; }
  /// Queue `k`'s events only.
  Signals& queue(uint32_t k) { return queues_.at(k); }

  template <class E>
  void emit(const E& e) {
    Signals& q = queues_[e.queue];
    if (run_.unordered<E>() || q.unordered<E>()) {
      run_.publish(e);
      q.publish(e);
      published_until_ = std::max(published_until_, e.time);
    }
    // Only where an ordered slot waits for it does the event take its turn
    // (a CPU's busy spans feed a union that any order gives: 3 of a
    // packet's 8 events at 25% load).
    if (run_.ordered<E>() || q.ordered<E>()) queue_up(e);
    if (after_emit_) after_emit_(e.queue);
  }
  /// Called after every emission with the event's queue, when the state that
  /// caused the event is in place (--check verifies that queue's descriptors).
  void set_after_emit(std::function<void(uint32_t queue)> fn) { after_emit_ = std::move(fn); }
  /// Dispatches, in (time, emission order), every event stamped at or before
  /// `safe_time`: no actor will publish an earlier one.
  void advance(double safe_time) {
    settled_ = std::max(settled_, to_sim_time(safe_time));
    dispatch(safe_time);
  }
  size_t pending() const { return pending_; }
  /// The latest time stamped on an event an unordered slot took (-1: none).
  /// An ordered slot never sees an event stamped after the run's end (the
  /// last advance); the run checks that no unordered one did either
  /// (RunLoop::finish), so that both count the same events.
  double published_until() const { return published_until_; }
  /// Events that took their turn through the bus so far (not those only
  /// unordered slots took).
  uint64_t emitted() const { return seq_; }

 private:
  template <class E>
  void queue_up(const E& e) {
    const uint64_t seq = seq_++;
    const auto id = static_cast<uint32_t>(size_t{e.queue} * kKinds + KindOf<E, AnyEvent>::value);
    Fifo<Queued>& s = streams_[id];
    if (s.empty()) {
      s.push_back({e.time, seq, AnyEvent(e)});
      push_head({e.time, seq, id});
    } else if (e.time >= s.back().time) {
      s.push_back({e.time, seq, AnyEvent(e)});
    } else {
      late_.push({e.time, seq, AnyEvent(e)});
    }
    ++pending_;
  }
  void dispatch(double safe_time) {
    for (;;) {
      const bool from_stream =
          !heads_.empty() && (late_.empty() || late_.top().time > heads_.front().time ||
                              (late_.top().time == heads_.front().time && late_.top().seq > heads_.front().seq));
      if (from_stream ? heads_.front().time > safe_time : late_.empty() || late_.top().time > safe_time) return;
      AnyEvent e;
      if (from_stream) {
        const uint32_t id = heads_.front().stream;
        Fifo<Queued>& s = streams_[id];
        e = std::move(s.front().event);
        s.pop_front();
        // The stream's next event takes its place: one sift, not a pop and a push.
        if (s.empty())
          pop_head();
        else
          replace_head({s.front().time, s.front().seq, id});
      } else {
        e = late_.top().event;
        late_.pop();
      }
      --pending_;
      std::visit(
          [this](const auto& ev) {
            run_.emit(ev);
            queues_[ev.queue].emit(ev);
          },
          e);
    }
  }
  struct Queued {
    double time;
    uint64_t seq;
    AnyEvent event;
    bool operator>(const Queued& o) const { return time > o.time || (time == o.time && seq > o.seq); }
  };
  struct Head {
    double time;
    uint64_t seq;
    uint32_t stream;
    bool operator>(const Head& o) const { return time > o.time || (time == o.time && seq > o.seq); }
  };

  Signals run_;
  std::vector<Signals> queues_;
  std::vector<Fifo<Queued>> streams_;  ///< [queue * kKinds + kind]
  /// The head of each non-empty stream: a binary min-heap on (time, seq).
  std::vector<Head> heads_;
  void push_head(Head h) {
    heads_.push_back(h);
    std::push_heap(heads_.begin(), heads_.end(), std::greater<>{});
  }
  void pop_head() {
    std::pop_heap(heads_.begin(), heads_.end(), std::greater<>{});
    heads_.pop_back();
  }
  /// Replaces the smallest head with `h` (sifted down from the top).
  void replace_head(Head h) {
    const size_t n = heads_.size();
    size_t i = 0;
    for (;;) {
      size_t c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heads_[c] > heads_[c + 1]) ++c;
      if (!(h > heads_[c])) break;
      heads_[i] = heads_[c];
      i = c;
    }
    heads_[i] = h;
  }
  std::priority_queue<Queued, std::vector<Queued>, std::greater<>> late_;  ///< events earlier than their stream's last
  uint64_t seq_ = 0;
  size_t pending_ = 0;
  SimTime settled_ = 0;
  double published_until_ = -1;
  std::function<void(uint32_t)> after_emit_;
};

}  // namespace vringsim

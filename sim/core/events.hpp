// What actors publish and collectors observe (SimGrid on_* signals and ns-3
// trace sources are the model): a new metric subscribes, it never edits an
// actor.
//
// Actors compute a whole service burst or NAPI poll at once, so they publish
// events stamped with when they happen, which may be later than the
// simulated clock at publication. The EventBus buffers them and hands them to
// observers in time order, once no actor can still publish an earlier one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

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
  double arrival_s = 0;  ///< last bit at the host
};

enum class EventKind : uint8_t {
  Arrived,  ///< packet reached the host (accepted into the tap queue or dropped)
  Dropped,  ///< packet dropped; reason
  Posted,   ///< guest published chains: count = chains, bytes = buffer bytes
  Taken,    ///< device took chains for a packet: count = chains, bytes = buffer bytes
  Used,  ///< device returned a packet's chains: count = descriptors written, bytes = buffer bytes, len = bytes written
  Delivered,   ///< guest handed a packet to the stack: count = buffers
  Kick,        ///< guest notified the host (reason 1) or skipped it, suppressed (reason 0)
  Interrupt,   ///< host interrupted the guest
  StallBegin,  ///< host has a packet and no usable buffer
  StallEnd,
  HostBusy,      ///< host CPU busy from time to `until`
  GuestBusy,     ///< guest CPU busy from time to `until`
  RefillFailed,  ///< a page allocation failed during refill
  BadChain,  ///< the device found a faulty chain at the front of the avail ring: reason = ChainFault; count = avail
             ///< entries it consumed (0 or 1), bytes = buffer bytes of the chain it skipped (no longer posted)
  DeviceBroken,  ///< the device marked itself broken (needs reset) and stopped using the ring
  RxError,       ///< the guest got a buffer back with fewer bytes than a header (rx_length_errors)
};

struct Event {
  double time = 0;
  EventKind kind = EventKind::Arrived;
  uint8_t reason = 0;
  uint16_t head = 0;
  uint32_t count = 0;
  uint32_t len = 0;
  uint64_t packet = 0;
  uint64_t bytes = 0;
  double arrival_s = 0;  ///< Delivered, Dropped: when the packet arrived
  double until = 0;      ///< busy spans: end
  uint32_t queue = 0;    ///< the receive queue (global index; 0 without a topology)
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_event(const Event& e) = 0;
};

class EventBus {
 public:
  void subscribe(Observer* o) { observers_.push_back(o); }
  void emit(const Event& e) {
    heap_.push({e, seq_++});
    if (after_emit_) after_emit_(e);
  }
  /// Called after every emission, when the state that caused the event is in
  /// place (the --check mode verifies the event's queue's descriptors there).
  void set_after_emit(std::function<void(const Event&)> fn) { after_emit_ = std::move(fn); }
  /// Dispatches, in (time, emission order), every event stamped at or before `safe_time`.
  void advance(double safe_time) {
    while (!heap_.empty() && heap_.top().event.time <= safe_time) {
      const Event e = heap_.top().event;
      heap_.pop();
      for (Observer* o : observers_) o->on_event(e);
    }
  }
  size_t pending() const { return heap_.size(); }

 private:
  struct Queued {
    Event event;
    uint64_t seq;
    bool operator>(const Queued& o) const {
      return event.time > o.event.time || (event.time == o.event.time && seq > o.seq);
    }
  };
  std::priority_queue<Queued, std::vector<Queued>, std::greater<>> heap_;
  std::vector<Observer*> observers_;
  uint64_t seq_ = 0;
  std::function<void(const Event&)> after_emit_;
};

}  // namespace vringsim

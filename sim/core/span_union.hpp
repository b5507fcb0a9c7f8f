// The busy time of one CPU: the length of the union of its busy spans from
// a window's start on, in the run's nanoseconds, exact, whatever the order
// the spans come in (overlaps count once).
//
// The spans come as the actors publish them (Signal::connect_unordered),
// not in time order: a device publishes the span of a burst when the burst
// is done, and the spans of the interrupts it signalled in the middle of it
// before that. The union keeps the disjoint spans a later one may still
// overlap: those that end at or after the instant the bus has settled
// (every span published from then on starts at it or later,
// Signals::settled). A span that starts before the end of one it let go is
// an error of the engine's (an event published earlier than the bus had
// said was safe), never a silent miscount.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "sim/core/errors.hpp"
#include "sim/engine/sim_time.hpp"

namespace vringsim {

class SpanUnion {
 public:
  explicit SpanUnion(SimTime window_start = 0) : window_start_(window_start) {}

  /// Adds [start, end). `settled`: no span added from now on starts before it.
  void add(SimTime start, SimTime end, SimTime settled) {
    start = std::max(start, window_start_);
    if (end <= start) return;
    while (first_ < open_.size() && open_[first_].end < settled) let_go_until_ = open_[first_++].end;
    // After letting go (of spans this one may overlap, if it came late):
    // what it could overlap must all still be here.
    ensure(start >= let_go_until_, "cpu: a busy span began before an instant the event bus had settled");
    if (first_ == open_.size() || start > open_.back().end) {   // after every span kept: most spans
      if (first_ > 32 && 2 * first_ > open_.size()) compact();  // amortised: each span moved once at most
      busy_ += end - start;
      open_.push_back(Span{start, end});
      return;
    }
    Span& last = open_.back();
    if (start >= last.start) {  // within or past the end of the last span only: a signal inside a burst
      if (end > last.end) {
        busy_ += end - last.end;
        last.end = end;
      }
      return;
    }
    merge(start, end);
  }
  /// The length of the union so far.
  SimTime busy() const { return busy_; }
  /// Spans kept (a later span may still overlap them).
  size_t kept() const { return open_.size() - first_; }

 private:
  struct Span {
    SimTime start, end;
  };
  /// Drops the spans let go from the front of the vector.
  void compact() {
    open_.erase(open_.begin(), open_.begin() + static_cast<std::ptrdiff_t>(first_));
    first_ = 0;
  }
  /// [start, end) where it overlaps, touches or precedes a span kept.
  void merge(SimTime start, SimTime end) {
    // The spans this one overlaps or touches: [lo, hi). Spans come mostly
    // in order, so the search starts from the last.
    size_t lo = open_.size();
    while (lo > first_ && open_[lo - 1].end >= start) --lo;
    size_t hi = lo;
    SimTime overlap = 0;
    while (hi < open_.size() && open_[hi].start <= end) {
      overlap += std::max<SimTime>(0, std::min(end, open_[hi].end) - std::max(start, open_[hi].start));
      ++hi;
    }
    busy_ += end - start - overlap;
    if (hi == lo) {
      open_.insert(open_.begin() + static_cast<std::ptrdiff_t>(lo), Span{start, end});
      return;
    }
    open_[lo] = Span{std::min(start, open_[lo].start), std::max(end, open_[hi - 1].end)};
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(lo + 1), open_.begin() + static_cast<std::ptrdiff_t>(hi));
  }

  SimTime window_start_;
  SimTime busy_ = 0;
  std::vector<Span> open_;  ///< disjoint, neither touching, by start; [first_, end) kept
  size_t first_ = 0;
  SimTime let_go_until_ = std::numeric_limits<SimTime>::min();  ///< the latest end let go
};

}  // namespace vringsim

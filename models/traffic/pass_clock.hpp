// Timestamps across replay passes of a trace: each pass starts one mean
// inter-frame gap after the previous one ends, so a looped trace keeps its
// own rhythm. Shared by every trace kind that loops.
#pragma once

#include <cstdint>

namespace vringsim {

class PassClock {
 public:
  /// The replay time of a frame stamped `t` in the trace (call in order).
  double stamp(double t) {
    if (count_++ == 0) first_ = t;
    last_ = t;
    return offset_ + t - first_;
  }
  /// Frames stamped in the current pass.
  uint64_t count() const { return count_; }
  /// The next pass starts one mean gap after this one's last frame.
  void next_pass() {
    const double span = last_ - first_;
    offset_ += span + (count_ > 1 ? span / static_cast<double>(count_ - 1) : 0.0);
    count_ = 0;
  }

 private:
  double offset_ = 0, first_ = 0, last_ = 0;
  uint64_t count_ = 0;
};

}  // namespace vringsim

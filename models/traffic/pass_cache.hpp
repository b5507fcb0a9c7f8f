// The frames of a looped trace's first pass, kept in memory when they fit, so
// that later passes replay them instead of reading and decoding the file
// again: every pass of a trace yields the same frames (PassClock moves their
// times). Bounded, so memory stays flat whatever the trace's length: a first
// pass longer than kMaxFrames keeps nothing and every pass reads the file.
#pragma once

#include <cstdint>
#include <vector>

namespace vringsim {

/// One frame as the trace gave it, before PassClock stamps it.
struct CachedFrame {
  double time_s = 0;  ///< the trace's timestamp (meaningless if !has_time)
  uint32_t len_bytes = 0;
  uint32_t flow = 0;
  uint32_t header_bytes = 0;
  bool has_time = false;
  bool truncated = false;  ///< the capture kept less than the frame (snaplen)
};

class PassCache {
 public:
  /// 2^18 frames of 24 bytes: 6 MiB at most.
  static constexpr size_t kMaxFrames = size_t{1} << 18;

  /// `loops`: the passes the trace will be replayed; one pass keeps nothing.
  explicit PassCache(uint64_t loops, size_t max_frames = kMaxFrames) : max_(max_frames), recording_(loops > 1) {}

  /// First pass: keep `f` (or give up once the pass outgrows the bound).
  void record(const CachedFrame& f) {
    if (!recording_) return;
    if (frames_.size() == max_) {
      recording_ = false;
      std::vector<CachedFrame>().swap(frames_);
      return;
    }
    frames_.push_back(f);
  }
  /// A pass ended: true if the next one replays from memory (the first pass
  /// was kept whole), which then starts from its first frame.
  bool next_pass() {
    if (recording_) {
      recording_ = false;
      replaying_ = true;
    }
    pos_ = 0;
    return replaying_;
  }
  bool replaying() const { return replaying_; }
  /// The next kept frame of this pass; nullptr at its end.
  const CachedFrame* next() { return pos_ < frames_.size() ? &frames_[pos_++] : nullptr; }

 private:
  std::vector<CachedFrame> frames_;
  size_t max_;
  size_t pos_ = 0;
  bool recording_ = false;
  bool replaying_ = false;
};

}  // namespace vringsim

// What `vringsim trace-info` reports about a trace: counts, duration and the
// length distribution, accumulated one frame at a time in constant memory
// (a histogram over the lengths up to the longest seen below 16 KiB, grown
// as longer frames come, so a short trace does not clear memory first; the
// few distinct lengths above that, up to 256 KiB, counted in a map: one
// 200 kB frame made a 1.6 MB histogram to clear and scan three times).
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/core/params.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {

/// The one warning a trace with backward timestamps gets (replay keeps file
/// order; the count is in the run's summary). Nothing when `count` is 0.
void warn_backward_timestamps(const std::filesystem::path& file, uint64_t count);
/// ETH_ZLEN: the shortest Ethernet frame without FCS; a NIC pads shorter ones.
inline constexpr uint32_t kMinEthernetFrame = 60;
/// Says once, on stderr, how many frames of a trace are shorter than that
/// (captured on the sender before padding, or written by hand).
void warn_short_frames(const std::filesystem::path& file, uint64_t count);

class TraceStats {
 public:
  void add(uint32_t len, std::optional<double> time_s) {
    if (len < kDense) {
      if (len >= hist_.size()) hist_.resize(std::min<size_t>(kDense, std::max<size_t>(len + 1, 2 * hist_.size())), 0);
      ++hist_[len];
    } else {
      ++long_[len];
    }
    ++count_;
    bytes_ += len;
    if (time_s) {
      // The span is the earliest to the latest, in whatever order they come
      // (it was the latest less the first record's: 0 when the first was the latest).
      min_time_ = have_time_ ? std::min(min_time_, *time_s) : *time_s;
      max_time_ = have_time_ ? std::max(max_time_, *time_s) : *time_s;
      have_time_ = true;
    }
  }
  uint64_t count() const { return count_; }
  /// Sections shared by every trace kind: packets, bytes, duration_s (with
  /// timestamps: `timed`, a format that carries them, or any frame that had
  /// one) and len_bytes. A trace of no packets prints every figure: duration_s
  /// 0, each len_bytes figure null, and a `note` saying so.
  Json to_json(bool timed = false) const;

 private:
  static constexpr uint32_t kDense = 16384;
  /// Calls fn(length, frames) for every length seen, shortest first.
  template <typename Fn>
  void for_each_length(Fn&& fn) const {
    for (uint32_t len = 0; len < hist_.size(); ++len)
      if (hist_[len] && !fn(len, hist_[len])) return;
    for (const auto& [len, n] : long_)
      if (!fn(len, n)) return;
  }
  std::vector<uint64_t> hist_;        ///< frames of each length below kDense
  std::map<uint32_t, uint64_t> long_;  ///< frames of each longer length
  uint64_t count_ = 0, bytes_ = 0;
  bool have_time_ = false;
  double min_time_ = 0, max_time_ = 0;
};

/// A TraceSpan from one pass's timestamps in file order, replayed as
/// PassClock replays them (each pass one mean gap after the previous one).
class SpanCounter {
 public:
  void add(std::optional<double> t) {
    ++frames_;
    if (!t) return;
    if (!have_) first_ = lo_ = hi_ = *t, have_ = true;
    lo_ = std::min(lo_, *t);
    hi_ = std::max(hi_, *t);
    last_ = *t;
    ++timed_;
  }
  TraceSpan finish(const std::string& file, const std::string& noun, const std::string& prefix, uint64_t loops,
                   const WireSettings& wire) const {
    TraceSpan s;
    s.file = file;
    s.noun = noun;
    s.prefix = prefix;
    s.frames = frames_;
    s.loops = loops;
    s.timed = have_;
    s.own_timing = wire.arrival == "trace";
    s.duration_s = hi_ - lo_;
    const double pass = (last_ - first_) + (timed_ > 1 ? (last_ - first_) / static_cast<double>(timed_ - 1) : 0.0);
    s.first_s = std::max(0.0, lo_ - first_) / wire.speed;
    s.last_s = (static_cast<double>(loops - 1) * pass + (hi_ - first_)) / wire.speed;
    return s;
  }

 private:
  bool have_ = false;
  uint64_t frames_ = 0, timed_ = 0;
  double first_ = 0, last_ = 0, lo_ = 0, hi_ = 0;
};

/// Packets and bytes of one flow, direction or window.
struct Tally {
  uint64_t packets = 0, bytes = 0;
  void add(uint32_t len) {
    ++packets;
    bytes += len;
  }
};

/// trace-info's rates and idle gaps, from the timestamps in file order:
/// the mean rate over the trace's duration, the peak over 1 ms and 100 ms
/// windows aligned to the first timestamp ([t0, t0 + w), [t0 + w, t0 + 2w),
/// ...; timestamps are taken to the nanosecond, so a frame at t0 + 3 ms
/// opens the fourth 1 ms window), and the gaps longer than one second
/// between a frame and the latest before it. Constant memory: the windows
/// of at most kOpenWindows recent indices are kept open (a timestamp going
/// back further than that counts in a window of its own).
class RateProfile {
 public:
  void add(double time_s, uint32_t len);
  /// Adds `rate` and `gaps` sections to `j` (a trace with timestamps).
  void add_to(Json& j) const;

  static constexpr double kGapS = 1.0;
  static constexpr size_t kOpenWindows = 4096;

 private:
  struct Windows {
    int64_t width_ns;
    std::map<int64_t, Tally> open;
    uint64_t peak_packets = 0, peak_bytes = 0;
    int64_t peak_at = 0;  ///< the window with the most bytes
    void add(int64_t rel_ns, uint32_t len);
    void close(int64_t index, const Tally& t);
    Json to_json() const;
  };
  bool have_ = false;
  double origin_ = 0, earliest_ = 0, latest_ = 0;
  Tally all_;
  Windows ms1_{1000000, {}}, ms100_{100000000, {}};
  uint64_t gaps_ = 0;
  double longest_gap_ = 0, longest_gap_start_ = 0;
};

/// The `top` most bytes of `tallies` (ties: more packets, then the key),
/// as {"1": {"<what>": label, "packets", "bytes"}, "2": ...}: ranked keys,
/// so the text output and the JSON have the same keys.
Json top_by_bytes(const std::unordered_map<std::string, Tally>& tallies, size_t top, const char* what,
                  const std::function<std::string(const std::string&)>& label);

}  // namespace vringsim

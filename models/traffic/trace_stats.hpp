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
#include <map>
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
  uint32_t quantile(double q) const;
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

}  // namespace vringsim

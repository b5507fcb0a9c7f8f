#include "models/traffic/trace_stats.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <tuple>

namespace vringsim {

void warn_backward_timestamps(const std::filesystem::path& file, uint64_t count) {
  if (count)
    std::cerr << fmt::format("{}: warning: {} timestamps go backwards; replaying in file order\n", file.string(),
                             count);
}

void warn_short_frames(const std::filesystem::path& file, uint64_t count) {
  if (count)
    std::cerr << fmt::format("{}: warning: {} frames shorter than {} bytes (the Ethernet minimum without FCS); "
                             "replayed at their own length\n",
                             file.string(), count, kMinEthernetFrame);
}

Json TraceStats::to_json(bool timed) const {
  Json j;
  j["packets"] = count_;
  j["bytes"] = bytes_;
  if (have_time_ || timed) j["duration_s"] = have_time_ ? max_time_ - min_time_ : 0.0;
  if (count_ == 0) {
    // Every figure, as for a trace with packets (they were left out): no
    // frame has a length, so each length figure is null, and a note says why.
    Json len;
    for (const char* k :
         {"min", "median", "p99", "max", "mean", "share_le_128", "share_ge_1400", "share_above_1514"})
      len[k] = nullptr;
    j["len_bytes"] = len;
    j["note"] = j.contains("duration_s") ? "no packets: duration_s is 0 and the len_bytes figures are null"
                                         : "no packets: the len_bytes figures are null";
    return j;
  }
  // One walk of the lengths for every figure (it was three: one more for
  // each quantile, over a histogram of up to 16,384 lengths). Quantiles are
  // the nearest rank, as for latencies: the first length whose frames bring
  // the count to the rank.
  auto rank = [this](double q) {
    return std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  };
  const uint64_t rank_median = rank(0.5), rank_p99 = rank(0.99);
  uint64_t small = 0, large = 0, above_mtu = 0, seen = 0;
  uint32_t mn = 0, mx = 0, median = 0, p99 = 0;
  for_each_length([&](uint32_t len, uint64_t n) {
    if (!mn) mn = len;
    mx = len;
    if (len <= 128) small += n;
    if (len >= 1400) large += n;
    if (len > 1514) above_mtu += n;
    if (seen < rank_median && seen + n >= rank_median) median = len;
    if (seen < rank_p99 && seen + n >= rank_p99) p99 = len;
    seen += n;
    return true;
  });
  const double n = static_cast<double>(count_);
  j["len_bytes"] = Json{{"min", mn},
                        {"median", median},
                        {"p99", p99},
                        {"max", mx},
                        {"mean", static_cast<double>(bytes_) / n},
                        {"share_le_128", static_cast<double>(small) / n},
                        {"share_ge_1400", static_cast<double>(large) / n},
                        {"share_above_1514", static_cast<double>(above_mtu) / n}};
  return j;
}

namespace {
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

void RateProfile::Windows::close(int64_t index, const Tally& t) {
  peak_packets = std::max(peak_packets, t.packets);
  if (t.bytes > peak_bytes || (t.bytes == peak_bytes && index < peak_at)) {
    peak_bytes = t.bytes;
    peak_at = index;
  }
}

void RateProfile::Windows::add(int64_t rel_ns, uint32_t len) {
  open[floor_div(rel_ns, width_ns)].add(len);
  while (open.size() > kOpenWindows) {
    close(open.begin()->first, open.begin()->second);
    open.erase(open.begin());
  }
}

Json RateProfile::Windows::to_json() const {
  Windows w = *this;
  for (const auto& [index, t] : open) w.close(index, t);
  const double width = static_cast<double>(width_ns) * 1e-9;
  return Json{{"packets_per_s", static_cast<double>(w.peak_packets) / width},
              {"gbps", static_cast<double>(w.peak_bytes) * 8 / width / 1e9},
              {"start_s", static_cast<double>(w.peak_at) * width}};
}

void RateProfile::add(double t, uint32_t len) {
  if (!have_) {
    origin_ = earliest_ = latest_ = t;
    have_ = true;
  }
  // A gap: this frame comes more than a second after the latest before it.
  if (t - latest_ > kGapS) {
    ++gaps_;
    if (t - latest_ > longest_gap_) {
      longest_gap_ = t - latest_;
      longest_gap_start_ = latest_ - origin_;
    }
  }
  earliest_ = std::min(earliest_, t);
  latest_ = std::max(latest_, t);
  all_.add(len);
  // Nanoseconds: 0.003 s / 0.001 s is 2.9999999999999996 in doubles.
  const auto rel_ns = static_cast<int64_t>(std::llround((t - origin_) * 1e9));
  ms1_.add(rel_ns, len);
  ms100_.add(rel_ns, len);
}

void RateProfile::add_to(Json& j) const {
  Json rate;
  const double duration = latest_ - earliest_;
  rate["windows"] = "peaks over windows aligned to the first timestamp: [t0, t0 + w), [t0 + w, t0 + 2w), ...; "
                    "start_s is the window with the most bytes, from t0";
  if (have_ && duration > 0) {
    rate["mean_packets_per_s"] = static_cast<double>(all_.packets) / duration;
    rate["mean_gbps"] = static_cast<double>(all_.bytes) * 8 / duration / 1e9;
  } else {
    rate["mean_packets_per_s"] = nullptr;
    rate["mean_gbps"] = nullptr;
  }
  if (have_) {
    rate["peak_1ms"] = ms1_.to_json();
    rate["peak_100ms"] = ms100_.to_json();
  } else {
    rate["peak_1ms"] = Json{{"packets_per_s", nullptr}, {"gbps", nullptr}, {"start_s", nullptr}};
    rate["peak_100ms"] = rate["peak_1ms"];
  }
  j["rate"] = rate;
  Json gaps = {{"longer_than_s", kGapS}, {"count", gaps_}};
  gaps["longest_s"] = gaps_ ? Json(longest_gap_) : Json(nullptr);
  gaps["longest_start_s"] = gaps_ ? Json(longest_gap_start_) : Json(nullptr);
  j["gaps"] = gaps;
}

Json top_by_bytes(const std::unordered_map<std::string, Tally>& tallies, size_t top, const char* what,
                  const std::function<std::string(const std::string&)>& label) {
  std::vector<std::pair<std::string, Tally>> rows;
  rows.reserve(tallies.size());
  for (const auto& [key, t] : tallies) rows.emplace_back(key, t);  // labelled once chosen: there may be millions
  const size_t n = std::min(top, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n), rows.end(),
                    [](const auto& a, const auto& b) {
                      return std::tie(b.second.bytes, b.second.packets, a.first) <
                             std::tie(a.second.bytes, a.second.packets, b.first);
                    });
  Json j = Json::object();
  for (size_t i = 0; i < n; ++i)
    j[std::to_string(i + 1)] = Json{{what, label(rows[i].first)}, {"packets", rows[i].second.packets}, {"bytes", rows[i].second.bytes}};
  return j;
}

}  // namespace vringsim

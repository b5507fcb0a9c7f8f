#include "models/traffic/trace_stats.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iostream>

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

uint32_t TraceStats::quantile(double q) const {
  // Nearest rank, as for latencies.
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  uint32_t found = 0;
  for_each_length([&](uint32_t len, uint64_t n) {
    seen += n;
    found = len;
    return seen < rank;
  });
  return seen >= rank ? found : 0;
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
  uint64_t small = 0, large = 0, above_mtu = 0;
  uint32_t mn = 0, mx = 0;
  for_each_length([&](uint32_t len, uint64_t n) {
    if (!mn) mn = len;
    mx = len;
    if (len <= 128) small += n;
    if (len >= 1400) large += n;
    if (len > 1514) above_mtu += n;
    return true;
  });
  const double n = static_cast<double>(count_);
  j["len_bytes"] = Json{{"min", mn},
                        {"median", quantile(0.5)},
                        {"p99", quantile(0.99)},
                        {"max", mx},
                        {"mean", static_cast<double>(bytes_) / n},
                        {"share_le_128", static_cast<double>(small) / n},
                        {"share_ge_1400", static_cast<double>(large) / n},
                        {"share_above_1514", static_cast<double>(above_mtu) / n}};
  return j;
}

}  // namespace vringsim

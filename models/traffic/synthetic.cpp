// synthetic: a seeded generator of frame lengths (fixed, uniform, or a
// weighted list); timing comes from the core's arrival process (line rate,
// constant, Poisson). Infinite: stop.time_s or stop.packets ends the run.
#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "sim/core/errors.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {
namespace {

constexpr double kMinFrame = 14;         // an Ethernet header alone
constexpr double kMaxFrame = kFrame64k;  // a 64 KiB GSO super-packet

class SyntheticSource : public TrafficSource {
 public:
  explicit SyntheticSource(const TrafficContext& ctx) : rng_(ctx.seed, "traffic-lengths") {
    const Config& cfg = ctx.cfg;
    const std::string& prefix = ctx.prefix;
    const std::string ptr = key_to_pointer(prefix.substr(0, prefix.size() - 1));
    const std::string dist = cfg.string(prefix + "length");
    if (dist == "fixed") {
      mode_ = Mode::Fixed;
      fixed_ = static_cast<uint32_t>(cfg.integer(prefix + "len_bytes"));
    } else if (dist == "uniform") {
      mode_ = Mode::Uniform;
      lo_ = static_cast<uint32_t>(cfg.integer(prefix + "min_len_bytes"));
      hi_ = static_cast<uint32_t>(cfg.integer(prefix + "max_len_bytes"));
      if (lo_ > hi_) throw InputError(fmt::format("{}/min_len_bytes: {} is above max_len_bytes ({})", ptr, lo_, hi_));
    } else {
      mode_ = Mode::Weighted;
      const auto lens = cfg.numbers(prefix + "lens_bytes");
      const auto weights = cfg.numbers(prefix + "weights");
      if (lens.empty()) throw InputError(ptr + "/lens_bytes: needs at least one length");
      if (lens.size() != weights.size())
        throw InputError(fmt::format("{}/weights: {} weights for {} lengths", ptr, weights.size(), lens.size()));
      double total = 0;
      for (size_t i = 0; i < lens.size(); ++i) {
        if (lens[i] != std::floor(lens[i]))
          throw InputError(fmt::format("{}/lens_bytes/{}: {} is not a whole number of bytes", ptr, i, lens[i]));
        total += weights[i];
        lens_.push_back(static_cast<uint32_t>(lens[i]));
        cumulative_.push_back(total);
      }
      if (total <= 0) throw InputError(ptr + "/weights: the weights sum to zero");
    }
  }

  std::optional<Frame> next() override {
    switch (mode_) {
      case Mode::Fixed: return Frame{fixed_, std::nullopt};
      case Mode::Uniform: return Frame{static_cast<uint32_t>(rng_.uniform_int(lo_, hi_)), std::nullopt};
      case Mode::Weighted: {
        const double x = rng_.uniform() * cumulative_.back();
        size_t i = 0;
        while (i + 1 < cumulative_.size() && x >= cumulative_[i]) ++i;
        return Frame{lens_[i], std::nullopt};
      }
    }
    return std::nullopt;
  }

 private:
  enum class Mode { Fixed, Uniform, Weighted } mode_ = Mode::Fixed;
  Rng rng_;
  uint32_t fixed_ = 0, lo_ = 0, hi_ = 0;
  std::vector<uint32_t> lens_;
  std::vector<double> cumulative_;
};

const Registrar<TrafficInfo> kRegistered{TrafficInfo{
    "synthetic", "seeded frame-length generator: fixed, uniform, or a weighted list (timing from traffic.arrival)",
    [](ParamTable& t, const std::string& p) {
      t.add(ParamSpec::string(p + "length", "fixed", {"fixed", "uniform", "weighted"})
                .help("frame length distribution")
                .from("MODEL.md §2: the 2008 setup sends MTU frames"));
      t.add(ParamSpec::integer(p + "len_bytes", kFrameMtu, "bytes")
                .range(kMinFrame, kMaxFrame)
                .help("frame length for length = fixed (no FCS)")
                .from("1514: ETH_HLEN + ETH_DATA_LEN, the MTU frame"));
      t.add(ParamSpec::integer(p + "min_len_bytes", 60, "bytes")
                .range(kMinFrame, kMaxFrame)
                .help("smallest frame for length = uniform")
                .from("60: the minimum Ethernet frame without FCS (IEEE 802.3)"));
      t.add(ParamSpec::integer(p + "max_len_bytes", kFrameMtu, "bytes")
                .range(kMinFrame, kMaxFrame)
                .help("largest frame for length = uniform")
                .from("1514: the MTU frame"));
      t.add(ParamSpec::number_list(p + "lens_bytes", {60, 590, 1514}, "bytes")
                .range(kMinFrame, kMaxFrame)
                .help("frame lengths for length = weighted")
                .from("IMIX 64/594/1518 less the 4-byte FCS"));
      t.add(ParamSpec::number_list(p + "weights", {7, 4, 1}, "")
                .range(0, 1e12)
                .help("relative weight of each of lens_bytes")
                .from("IMIX 7:4:1"));
    },
    [](const TrafficContext& ctx) -> std::unique_ptr<TrafficSource> {
      return std::make_unique<SyntheticSource>(ctx);
    }}};

}  // namespace
}  // namespace vringsim

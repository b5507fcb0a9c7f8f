// synthetic: a seeded generator of frame lengths (fixed, uniform, a weighted
// list, IMIX, bimodal, or an empirical CDF from a CSV file) over N flows;
// timing comes from the core's arrival process (line rate, constant,
// Poisson, on/off bursts). Infinite: stop.time_s or stop.packets ends the run.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>

#include "models/traffic/weighted_pick.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/bindings.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {
namespace {

constexpr double kMinFrame = 14;         // an Ethernet header alone
constexpr double kMaxFrame = kFrame64k;  // a 64 KiB GSO super-packet
// The simple IMIX: 64, 594 and 1518-byte frames 7:4:1, less the 4-byte FCS.
const std::vector<double> kImixLens = {60, 590, 1514};
const std::vector<double> kImixWeights = {7, 4, 1};

struct SyntheticSettings {
  std::string length = "fixed";
  uint32_t len_bytes = kFrameMtu;
  uint32_t min_len_bytes = 60, max_len_bytes = kFrameMtu;
  std::vector<double> lens_bytes, weights;
  double small_len_bytes = 60, large_len_bytes = kFrameMtu, large_fraction = 0.5;
  std::string cdf_file;
  uint32_t flows = 1;
  uint32_t header_bytes = 66;
};

const Bindings<SyntheticSettings>& synthetic_bindings() {
  using S = SyntheticSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::length,
                ParamSpec::string("length", "fixed", {"fixed", "uniform", "weighted", "imix", "bimodal", "empirical"})
                    .help("frame length distribution")
                    .from("docs/model.md §2: the 2008 setup sends MTU frames"))
          .bind(&S::len_bytes, ParamSpec::integer("len_bytes", kFrameMtu, "bytes")
                                   .range(kMinFrame, kMaxFrame)
                                   .help("frame length for length = fixed (no FCS)")
                                   .from("1514: ETH_HLEN + ETH_DATA_LEN, the MTU frame"))
          .bind(&S::min_len_bytes, ParamSpec::integer("min_len_bytes", 60, "bytes")
                                       .range(kMinFrame, kMaxFrame)
                                       .help("smallest frame for length = uniform")
                                       .from("60: the minimum Ethernet frame without FCS (IEEE 802.3)"))
          .bind(&S::max_len_bytes, ParamSpec::integer("max_len_bytes", kFrameMtu, "bytes")
                                       .range(kMinFrame, kMaxFrame)
                                       .help("largest frame for length = uniform")
                                       .from("1514: the MTU frame"))
          .bind(&S::lens_bytes, ParamSpec::number_list("lens_bytes", kImixLens, "bytes")
                                    .range(kMinFrame, kMaxFrame)
                                    .help("frame lengths for length = weighted")
                                    .from("IMIX 64/594/1518 less the 4-byte FCS"))
          .bind(&S::weights, ParamSpec::number_list("weights", kImixWeights, "")
                                 .range(0, 1e12)
                                 .help("relative weight of each of lens_bytes")
                                 .from("IMIX 7:4:1"))
          .bind(&S::small_len_bytes, ParamSpec::integer("small_len_bytes", 60, "bytes")
                                         .range(kMinFrame, kMaxFrame)
                                         .help("short frame for length = bimodal")
                                         .from("60: a TCP ACK without FCS"))
          .bind(&S::large_len_bytes, ParamSpec::integer("large_len_bytes", kFrameMtu, "bytes")
                                         .range(kMinFrame, kMaxFrame)
                                         .help("long frame for length = bimodal")
                                         .from("1514: the MTU frame"))
          .bind(&S::large_fraction, ParamSpec::number("large_fraction", 0.5, "probability")
                                        .range(0, 1)
                                        .help("share of long frames for length = bimodal")
                                        .from("half and half"))
          .bind(&S::cdf_file, ParamSpec::string("cdf_file", "")
                                  .help("for length = empirical: CSV with columns len_bytes and cdf (share of "
                                        "frames at most that long, the last row 1); relative names resolve against "
                                        "the scenario's directory")
                                  .from("required with length = empirical"))
          .bind(&S::flows, ParamSpec::integer("flows", 1, "flows")
                               .range(1, 1e9)
                               .help("each frame belongs to one of this many flows, drawn uniformly (for host GRO "
                                     "merging)")
                               .from("one flow, as a single netperf stream"))
          .bind(&S::header_bytes, ParamSpec::integer("header_bytes", 66, "bytes")
                                      .range(0, 65535)
                                      .help("Ethernet + IP + TCP header bytes of each frame (a shorter frame is "
                                            "all header; 0: unknown), which GRO merging removes from all but the "
                                            "first frame of a super-packet, and which host segmentation for a guest "
                                            "without GSO copies into each MTU segment: there it must leave 8 bytes "
                                            "of payload (at most virtio.mtu + 6)")
                                      .from("14 + 20 + 32: Ethernet, IPv4, TCP with timestamps (Linux's default)"));
  return b;
}

class SyntheticSource : public TrafficSource {
 public:
  explicit SyntheticSource(const TrafficContext& ctx)
      : rng_(ctx.seed, "traffic-lengths"), flow_rng_(ctx.seed, "traffic-flows") {
    const SyntheticSettings st = synthetic_bindings().load(ctx.cfg, ctx.prefix);
    const std::string& prefix = ctx.prefix;
    const std::string ptr = key_to_pointer(prefix.substr(0, prefix.size() - 1));
    flows_ = st.flows;
    header_bytes_ = st.header_bytes;
    const std::string& dist = st.length;
    if (dist == "fixed") {
      mode_ = Mode::Fixed;
      fixed_ = st.len_bytes;
    } else if (dist == "uniform") {
      mode_ = Mode::Uniform;
      lo_ = st.min_len_bytes;
      hi_ = st.max_len_bytes;
      if (lo_ > hi_) throw InputError(fmt::format("{}/min_len_bytes: {} is above max_len_bytes ({})", ptr, lo_, hi_));
    } else if (dist == "imix") {
      set_weighted(kImixLens, kImixWeights, ptr);
    } else if (dist == "bimodal") {
      const double p = st.large_fraction;
      set_weighted({st.small_len_bytes, st.large_len_bytes}, {1 - p, p}, ptr);
    } else if (dist == "empirical") {
      load_cdf(ctx, st.cdf_file, ptr);
    } else {
      set_weighted(st.lens_bytes, st.weights, ptr);
    }
    check_segments(ctx, ptr, dist == "fixed");
  }

  std::optional<uint32_t> constant_length() const override {
    return mode_ == Mode::Fixed ? std::optional<uint32_t>(fixed_) : std::nullopt;
  }

  std::optional<Frame> next() override {
    uint32_t len = fixed_;
    if (mode_ == Mode::Uniform) {
      len = static_cast<uint32_t>(rng_.uniform_int(lo_, hi_));
    } else if (mode_ == Mode::Weighted) {
      // A binary search of the cumulative weights set_weighted prepared: the
      // length the linear scan picked, in O(log n) (weighted_pick.hpp).
      len = lens_[pick_weighted(cumulative_, rng_.uniform() * cumulative_.back())];
    }
    // Flows are numbered from 1 (0 means "no flow"); the draw has its own
    // stream so the lengths do not depend on the number of flows.
    const uint32_t flow = flows_ == 1 ? 1 : static_cast<uint32_t>(flow_rng_.uniform_int(1, flows_));
    return Frame{len, std::nullopt, flow, std::min(header_bytes_, len)};
  }

 private:
  /// The lengths and their cumulative weights, prepared once for every draw.
  void set_weighted(const std::vector<double>& lens, const std::vector<double>& weights, const std::string& ptr) {
    mode_ = Mode::Weighted;
    if (lens.empty()) throw InputError(ptr + "/lens_bytes: needs at least one length");
    if (lens.size() != weights.size())
      throw InputError(fmt::format("{}/weights: {} weights for {} lengths", ptr, weights.size(), lens.size()));
    double total = 0;
    lens_.reserve(lens.size());
    cumulative_.reserve(lens.size());
    for (size_t i = 0; i < lens.size(); ++i) {
      if (lens[i] != std::floor(lens[i]))
        throw InputError(fmt::format("{}/lens_bytes/{}: {} is not a whole number of bytes", ptr, i, lens[i]));
      total += weights[i];
      lens_.push_back(static_cast<uint32_t>(lens[i]));
      cumulative_.push_back(total);
    }
    if (total <= 0) throw InputError(ptr + "/weights: the weights sum to zero");
  }

  /// The longest frame this source draws (a weighted length of weight 0 is never drawn).
  uint32_t max_len() const {
    if (mode_ == Mode::Fixed) return fixed_;
    if (mode_ == Mode::Uniform) return hi_;
    uint32_t m = 0;
    for (size_t i = 0; i < lens_.size(); ++i)
      if (cumulative_[i] > (i ? cumulative_[i - 1] : 0)) m = std::max(m, lens_[i]);
    return m;
  }

  /// For a guest without GSO the host cuts what is longer than an MTU frame
  /// into segments of this source's header plus payload: a frame above it,
  /// or the packets GRO merges from frames with payload. The header must
  /// leave payload in each (issue 35: 1513 bytes cut 9000-byte frames into
  /// 7,487 one-byte segments).
  void check_segments(const TrafficContext& ctx, const std::string& ptr, bool fixed) const {
    if (ctx.segment_mtu == 0 || header_bytes_ == 0) return;  // nothing cut; 0: no known header, left whole
    const uint32_t frame = mtu_frame_bytes(ctx.segment_mtu), longest = max_len();
    const GroSettings gro = GroSettings::bindings().load(ctx.cfg);
    std::string what;
    if (longest > frame)
      what = fixed ? fmt::format("the {}-byte frames", longest) : fmt::format("frames of up to {} bytes", longest);
    else if (gro.enabled && gro.max_bytes > frame && longest > header_bytes_)
      what = gro_packets_phrase(gro.max_bytes);
    else
      return;
    // A frame not longer than the header is all header (header_bytes is cut
    // to its length): the longest cut frame's header is the smaller.
    const uint32_t header = std::min(header_bytes_, longest);
    if (const std::string why = segment_header_problem(header, ctx.segment_mtu, what); !why.empty())
      throw InputError(fmt::format("{}/header_bytes: {} {}", ptr, header_bytes_, why));
  }

  /// An empirical distribution: a CSV with columns len_bytes and cdf (the
  /// share of frames at most that long), rows in increasing length.
  void load_cdf(const TrafficContext& ctx, const std::string& file, const std::string& ptr) {
    if (file.empty()) throw InputError(ptr + "/cdf_file: required when length is \"empirical\"");
    const auto path = ctx.path(ctx.prefix + "cdf_file", file);
    std::ifstream in(path);
    if (!in) throw InputError(fmt::format("{}: cannot open the length CDF", path.string()));
    std::string line;
    uint64_t n = 0;
    int len_col = -1, cdf_col = -1;
    std::vector<double> lens, weights;
    double prev_cdf = 0, prev_len = 0;
    auto fail = [&](const std::string& what) {
      throw InputError(fmt::format("{}: line {}: {}", path.string(), n, what));
    };
    while (std::getline(in, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> cells;
      std::stringstream ss(line);
      for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
      if (len_col < 0) {
        for (size_t i = 0; i < cells.size(); ++i) {
          if (cells[i] == "len_bytes") len_col = static_cast<int>(i);
          if (cells[i] == "cdf") cdf_col = static_cast<int>(i);
        }
        if (len_col < 0 || cdf_col < 0) fail("the header must name len_bytes and cdf");
        continue;
      }
      if (cells.size() <= static_cast<size_t>(std::max(len_col, cdf_col))) fail("missing cells");
      char* end = nullptr;
      const double len = std::strtod(cells[len_col].c_str(), &end);
      if (*end || len != std::floor(len) || len < kMinFrame || len > kMaxFrame || len <= prev_len)
        fail(fmt::format("len_bytes {} must be a whole number in {}..{}, above the previous row's", cells[len_col],
                         kMinFrame, kMaxFrame));
      const double cdf = std::strtod(cells[cdf_col].c_str(), &end);
      if (*end || !(cdf >= prev_cdf) || cdf > 1 + 1e-9)
        fail(fmt::format("cdf {} must be in 0..1 and not below the previous row's", cells[cdf_col]));
      lens.push_back(len);
      weights.push_back(cdf - prev_cdf);
      prev_cdf = cdf;
      prev_len = len;
    }
    if (lens.empty()) fail("no rows");
    if (std::fabs(prev_cdf - 1) > 1e-9) fail(fmt::format("the last row's cdf is {}, not 1", prev_cdf));
    set_weighted(lens, weights, ptr);
  }

  enum class Mode { Fixed, Uniform, Weighted } mode_ = Mode::Fixed;
  Rng rng_;
  Rng flow_rng_;
  uint32_t flows_ = 1, header_bytes_ = 0;
  uint32_t fixed_ = 0, lo_ = 0, hi_ = 0;
  std::vector<uint32_t> lens_;
  std::vector<double> cumulative_;
};

const Registrar<TrafficInfo> kRegisteredSynthetic{TrafficInfo{
    "synthetic", "seeded frame-length generator: fixed, uniform, or a weighted list (timing from traffic.arrival)",
    [](ParamTable& t, const std::string& p) { synthetic_bindings().declare(t, p); },
    [](const TrafficContext& ctx) -> std::unique_ptr<TrafficSource> { return std::make_unique<SyntheticSource>(ctx); },
    nullptr,    // nothing to read ahead: the generator cannot be damaged
    nullptr}};  // no file to describe

}  // namespace
}  // namespace vringsim

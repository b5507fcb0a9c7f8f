// pcap: replays a packet capture (pcap or pcapng) as the simulation goes,
// one record at a time. Timing is the wire's (traffic.arrival): "trace"
// keeps the capture's own timing (scaled by traffic.speed), the others
// ignore it and send at link rate, a constant rate or Poisson.
#include <fmt/format.h>

#include <cstring>
#include <iostream>
#include <tuple>
#include <unordered_map>

#include "models/traffic/capture_file.hpp"
#include "models/traffic/pass_cache.hpp"
#include "models/traffic/pass_clock.hpp"
#include "models/traffic/trace_stats.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/bindings.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

struct PcapSettings {
  std::string file, filter;
  uint64_t loops = 1, start_packet = 0, max_packets = 0;
  bool allow_truncated_tail = false;
};

const Bindings<PcapSettings>& pcap_bindings() {
  using S = PcapSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::file, ParamSpec::string("file", "")
                              .help("capture file (pcap or pcapng); relative names resolve against the scenario's "
                                    "directory")
                              .from("required with traffic.kind = pcap"))
          .bind(&S::filter, ParamSpec::string("filter", "")
                                .help("BPF expression selecting the packets to replay (pcap-filter(7)); empty: all")
                                .from("all packets"))
          .bind(&S::loops, ParamSpec::integer("loops", 1, "passes")
                               .range(1, 1e9)
                               .help("replay the capture this many times, each pass after the previous one")
                               .from("one pass"))
          .bind(&S::start_packet, ParamSpec::integer("start_packet", 0, "packets")
                                      .range(0, 9.2e18)
                                      .help("selected packets skipped at the start of each pass")
                                      .from("none skipped"))
          .bind(&S::max_packets, ParamSpec::integer("max_packets", 0, "packets")
                                     .range(0, 9.2e18)
                                     .help("selected packets replayed per pass at most (0: to the end)")
                                     .from("to the end"))
          .bind(&S::allow_truncated_tail,
                ParamSpec::boolean("allow_truncated_tail", false)
                    .help("a capture whose last record is cut short by the end of the file (still being written, "
                          "or copied before it was closed) replays the records before it, with a warning; false: "
                          "bad input like any damaged record")
                    .from("false: a damaged capture is refused"));
  return b;
}

struct PcapOptions {
  std::filesystem::path file;
  std::string filter;
  std::string filter_where;
  uint64_t loops = 1;
  uint64_t start_packet = 0;
  uint64_t max_packets = 0;
  bool allow_truncated_tail = false;
  WireSettings wire;
  std::string prefix;  ///< "traffic.pcap."
  /// Parse each frame's headers (flow and header length): host GRO merging,
  /// routing to several queues and host-side segmentation use them.
  bool parse_flows = false;

  explicit PcapOptions(const TrafficContext& ctx) {
    const PcapSettings st = pcap_bindings().load(ctx.cfg, ctx.prefix);
    parse_flows = GroSettings::bindings().load(ctx.cfg).enabled || ctx.need_flows || ctx.need_headers();
    if (st.file.empty())
      throw InputError(key_to_pointer(ctx.prefix + "file") + ": required when traffic.kind is \"pcap\"");
    file = ctx.path(ctx.prefix + "file", st.file);
    filter = st.filter;
    filter_where = key_to_pointer(ctx.prefix + "filter");
    loops = st.loops;
    start_packet = st.start_packet;
    max_packets = st.max_packets;
    allow_truncated_tail = st.allow_truncated_tail;
    wire = WireSettings::bindings().load(ctx.cfg);
    prefix = ctx.prefix;
  }
  /// Opens the capture with these options.
  std::unique_ptr<CaptureFile> open() const {
    auto f = std::make_unique<CaptureFile>(file, filter, filter_where, parse_flows);
    if (allow_truncated_tail) f->allow_truncated_tail();
    return f;
  }
};

class PcapSource : public TrafficSource {
 public:
  explicit PcapSource(const TrafficContext& ctx) : opt_(ctx), cache_(opt_.loops) { open_pass(); }

  std::optional<Frame> next() override {
    while (true) {
      if (cache_.replaying()) {
        if (const CachedFrame* c = cache_.next()) return emit(*c);
        if (!next_pass()) return std::nullopt;
        continue;
      }
      if (opt_.max_packets && emitted_in_pass_ >= opt_.max_packets) {
        if (!next_pass()) return std::nullopt;
        continue;
      }
      auto r = file_->next();
      if (!r) {
        if (!next_pass()) return std::nullopt;
        continue;
      }
      if (skipped_in_pass_ < opt_.start_packet) {
        ++skipped_in_pass_;
        continue;
      }
      const CachedFrame c{r->time_s, r->wire_len, r->flow, r->header_bytes, r->has_time, r->truncated};
      cache_.record(c);
      return emit(c);
    }
  }

  std::optional<TraceSpan> trace_span() const override {
    const auto f = opt_.open();
    SpanCounter span;
    uint64_t usable = 0;
    while (auto r = f->next()) {
      if (usable++ < opt_.start_packet) continue;
      if (opt_.max_packets && usable - opt_.start_packet > opt_.max_packets) break;
      span.add(r->has_time ? std::optional<double>(r->time_s) : std::nullopt);
    }
    return span.finish(opt_.file.string(), "capture", opt_.prefix, opt_.loops, opt_.wire);
  }

  Json summary(double) const override {
    return Json{{"packets_read", emitted_},
                {"passes", pass_},
                {"truncated", truncated_},
                {"filtered_out", filtered_},
                {"nonmonotonic_timestamps", nonmonotonic_},
                {"link_type", link_type_}};
  }

 private:
  Frame emit(const CachedFrame& c) {
    if (c.truncated) ++truncated_;
    ++emitted_in_pass_;
    ++emitted_;
    // A pcapng Simple Packet Block has no timestamp (pcap_validate() refuses it
    // when the capture's own timing is replayed).
    return Frame{c.len_bytes, c.has_time ? std::optional<double>(clock_.stamp(c.time_s)) : std::nullopt, c.flow,
                 c.header_bytes};
  }
  void open_pass() {
    file_ = opt_.open();
    link_type_ = file_->link_type();
    ++pass_;
    emitted_in_pass_ = skipped_in_pass_ = 0;
  }
  bool next_pass() {
    // A pass replayed from memory filtered and misordered what the first did.
    if (!cache_.replaying()) {
      pass_filtered_ = file_->filtered_out();
      pass_nonmonotonic_ = file_->nonmonotonic();
    }
    filtered_ += pass_filtered_;
    nonmonotonic_ += pass_nonmonotonic_;
    if (pass_ >= opt_.loops || emitted_in_pass_ == 0) return false;
    clock_.next_pass();
    if (!cache_.next_pass()) {
      open_pass();
      return true;
    }
    file_.reset();
    ++pass_;
    emitted_in_pass_ = skipped_in_pass_ = 0;
    return true;
  }

  PcapOptions opt_;
  std::unique_ptr<CaptureFile> file_;
  PassCache cache_;
  std::string link_type_;
  uint64_t pass_ = 0, emitted_ = 0, emitted_in_pass_ = 0, skipped_in_pass_ = 0;
  uint64_t truncated_ = 0, filtered_ = 0, nonmonotonic_ = 0;
  uint64_t pass_filtered_ = 0, pass_nonmonotonic_ = 0;  ///< the last pass read from the file
  PassClock clock_;
};

/// For a guest without GSO the host cuts a replayed frame longer than an MTU
/// frame (or a packet GRO merges from it) into segments of its parsed header
/// plus payload: a header that leaves too little (segment_header_problem)
/// names its record. Left to the host, it was cut into one-byte or empty
/// segments (issue 35); a real host cuts by the sender's gso_size, which a
/// capture does not record, so the model derives it from the MTU and
/// refuses what that cannot make.
void check_segments(const TrafficContext& ctx, const PcapOptions& opt, const CaptureFile::Record& r) {
  if (ctx.segment_mtu == 0 || r.header_bytes == 0) return;  // nothing cut; 0: no known header, left whole
  const uint32_t frame = mtu_frame_bytes(ctx.segment_mtu);
  const GroSettings gro = GroSettings::bindings().load(ctx.cfg);
  std::string what;
  if (r.wire_len > frame)
    what = fmt::format("the {}-byte frame", r.wire_len);
  else if (gro.enabled && gro.max_bytes > frame)
    what = gro_packets_phrase(gro.max_bytes);
  else
    return;
  if (const std::string why = segment_header_problem(r.header_bytes, ctx.segment_mtu, what); !why.empty())
    throw InputError(
        fmt::format("{}: packet {}: its {}-byte header {} (at byte {}; {} packets read before it; {} can leave "
                    "it out)",
                    opt.file.string(), r.index, r.header_bytes, why, r.offset, r.index - 1, ctx.prefix + "filter"));
}

/// Reads the whole capture once: damaged records, zero or oversized lengths,
/// frames the host cannot cut into MTU segments and an empty selection are
/// bad input before anything runs.
void pcap_validate(const TrafficContext& ctx) {
  const PcapOptions opt(ctx);
  const auto file = opt.open();
  CaptureFile& f = *file;
  const bool trace_timing = WireSettings::bindings().load(ctx.cfg).arrival == "trace";
  uint64_t usable = 0, short_frames = 0;
  while (auto r = f.next()) {
    if (trace_timing && !r->has_time)
      throw InputError(fmt::format("{}: packet {}: a Simple Packet Block has no timestamp, and traffic.arrival "
                                   "\"trace\" replays the capture's own ({} at byte {}; {} packets read before it)",
                                   opt.file.string(), r->index, f.unit(), r->offset, r->index - 1));
    // Only the records a pass replays: start_packet skips, max_packets stops.
    if (usable >= opt.start_packet && (opt.max_packets == 0 || usable - opt.start_packet < opt.max_packets))
      check_segments(ctx, opt, *r);
    ++usable;
    short_frames += r->wire_len < kMinEthernetFrame;
  }
  const uint64_t selected = usable > opt.start_packet ? usable - opt.start_packet : 0;
  if (selected == 0)
    throw InputError(fmt::format("{}: no packet to replay: {} records, {} filtered out, start_packet {}",
                                 opt.file.string(), f.records_read(), f.filtered_out(), opt.start_packet));
  warn_backward_timestamps(opt.file, f.nonmonotonic());
  warn_short_frames(opt.file, short_frames);
  if (const auto cut = f.cut_tail())
    std::cerr << fmt::format("{}: warning: the last record (packet {}) is cut short; replaying the {} packets before "
                             "it\n",
                             opt.file.string(), *cut, *cut - 1);
}

/// trace-info lists this many flows and directions.
constexpr size_t kTopFlows = 10;
/// Distinct flows tracked at most (a scan makes one per packet); packets of
/// flows seen after that are counted, not listed.
constexpr size_t kMaxFlows = size_t{1} << 20;

/// A tuple's key for the flow and direction tables: its bytes ("" not IP).
std::string flow_key(const FiveTuple& t) {
  if (t.version == 0) return {};
  FiveTuple k = t;
  k.vlan = false;  // one flow, tagged or not
  static_assert(sizeof(FiveTuple) == 40, "no padding: the key is the tuple's bytes");
  return std::string(reinterpret_cast<const char*>(&k), sizeof k);
}
std::string direction_key(const FiveTuple& t) {
  if (t.version == 0) return {};
  FiveTuple d;
  d.version = t.version;
  d.src = t.src;
  d.dst = t.dst;
  return flow_key(d);
}
FiveTuple from_key(const std::string& k) {
  FiveTuple t;
  std::memcpy(&t, k.data(), sizeof t);
  return t;
}
std::string flow_label(const std::string& k) {
  if (k.empty()) return "non-IP";
  const FiveTuple t = from_key(k);
  return fmt::format("{} {} > {}", t.proto_name(), t.src_text(true), t.dst_text(true));
}
std::string direction_label(const std::string& k) {
  if (k.empty()) return "non-IP";
  const FiveTuple t = from_key(k);
  return fmt::format("{} > {}", t.src_text(false), t.dst_text(false));
}

std::optional<Json> pcap_describe(const std::filesystem::path& file) {
  if (!CaptureFile::looks_like_capture(file)) return std::nullopt;
  CaptureFile f(file);
  f.keep_tuples();
  TraceStats stats;
  RateProfile rates;
  std::unordered_map<std::string, Tally> flows, directions;
  std::unordered_map<std::string, std::pair<uint64_t, uint64_t>> tagged;  ///< direction: frames with a VLAN tag, without
  Tally untracked;
  uint64_t truncated = 0;
  while (auto r = f.next()) {
    stats.add(r->wire_len, r->has_time ? std::optional<double>(r->time_s) : std::nullopt);
    if (r->has_time) rates.add(r->time_s, r->wire_len);
    if (r->truncated) ++truncated;
    const FiveTuple& t = f.tuple();
    std::string key = flow_key(t);
    if (auto it = flows.find(key); it != flows.end())
      it->second.add(r->wire_len);
    else if (flows.size() < kMaxFlows)
      flows[std::move(key)].add(r->wire_len);
    else
      untracked.add(r->wire_len);
    const std::string dir = direction_key(t);
    directions[dir].add(r->wire_len);
    auto& [with_tag, without] = tagged[dir];
    ++(t.vlan ? with_tag : without);
  }
  Json j = stats.to_json(true);  // every record has a timestamp
  j["format"] = f.format();
  j["link_type"] = f.link_type();
  j["truncated"] = truncated;
  j["nonmonotonic_timestamps"] = f.nonmonotonic();
  rates.add_to(j);
  // Flows: 5-tuples (proto, source, destination); non-IP frames are one entry.
  Json fl = {{"count", flows.size()}, {"top", top_by_bytes(flows, kTopFlows, "flow", flow_label)}};
  if (untracked.packets)
    fl["untracked"] = Json{{"note", fmt::format("flows after the first {} are counted here, not listed", kMaxFlows)},
                           {"packets", untracked.packets},
                           {"bytes", untracked.bytes}};
  j["flows"] = fl;
  // Directions: source address to destination address.
  Json dj = {{"count", directions.size()}, {"top", top_by_bytes(directions, kTopFlows, "direction", direction_label)}};
  // The most bytes (ties: the most packets, then the lowest key, as listed).
  std::string most;
  Tally most_t;
  uint64_t total = 0;
  for (const auto& [k, t] : directions) {
    total += t.bytes;
    if (most_t.packets == 0 || std::tie(t.bytes, t.packets) > std::tie(most_t.bytes, most_t.packets) ||
        (t.bytes == most_t.bytes && t.packets == most_t.packets && k < most)) {
      most = k;
      most_t = t;
    }
  }
  dj["most_bytes"] = directions.empty() ? Json(nullptr) : Json(direction_label(most));
  dj["most_bytes_share"] = total ? Json(static_cast<double>(most_t.bytes) / static_cast<double>(total)) : Json(nullptr);
  j["directions"] = dj;
  // The BPF filter (traffic.pcap.filter, applied by libpcap) that keeps the
  // busiest direction, checked by applying it.
  Json fj;
  if (directions.empty() || most.empty()) {
    fj["expression"] = nullptr;
    fj["note"] = directions.empty() ? "no packets: no direction to keep"
                                    : "the most bytes are in non-IP frames: no address to filter on";
  } else {
    const FiveTuple t = from_key(most);
    const std::string hosts = fmt::format("src host {} and dst host {}", t.src_text(false), t.dst_text(false));
    // BPF reads the addresses after a VLAN tag only behind the `vlan` keyword.
    const auto [with_tag, without] = tagged[most];
    const std::string expr = with_tag == 0  ? hosts
                             : without == 0 ? "vlan and " + hosts
                                            : fmt::format("({}) or (vlan and {})", hosts, hosts);
    CaptureFile check(file, expr, "the suggested filter", false);
    Tally kept;
    while (auto r = check.next()) kept.add(r->wire_len);
    fj["keeps"] = direction_label(most);
    fj["expression"] = expr;
    fj["set"] = fmt::format("--set 'traffic.pcap.filter={}'", expr);
    fj["kept_packets"] = kept.packets;
    fj["kept_bytes"] = kept.bytes;
    if (kept.packets != most_t.packets || kept.bytes != most_t.bytes)
      fj["note"] = fmt::format("libpcap keeps {} packets with it, the direction has {}", kept.packets,
                               most_t.packets);
  }
  j["filter"] = fj;
  return j;
}

const Registrar<TrafficInfo> kRegisteredPcap{TrafficInfo{
    "pcap", "replays a pcap or pcapng capture (pcap: libpcap; pcapng: our reader), streaming; lengths are original wire lengths",
    [](ParamTable& t, const std::string& p) { pcap_bindings().declare(t, p); },
    [](const TrafficContext& ctx) -> std::unique_ptr<TrafficSource> { return std::make_unique<PcapSource>(ctx); },
    pcap_validate, pcap_describe}};

}  // namespace
}  // namespace vringsim

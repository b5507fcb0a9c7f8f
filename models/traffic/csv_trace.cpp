// csv: replays a CSV trace, streaming. A header line names the columns:
// `len_bytes` (frame length without FCS) is required; `time_s` (seconds,
// any origin) and `flow` (an integer flow id, for GRO) are optional. Lines
// starting with '#' and empty lines are skipped. Without time_s, the wire
// paces the frames (traffic.arrival line-rate, constant or poisson).
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <unordered_map>

#include "models/traffic/pass_cache.hpp"
#include "models/traffic/pass_clock.hpp"
#include "models/traffic/trace_stats.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/bindings.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class CsvReader {
 public:
  explicit CsvReader(const std::filesystem::path& file) : file_(file), in_(file) {
    if (!in_) throw InputError(fmt::format("{}: cannot open CSV trace", file.string()));
    std::string header;
    while (std::getline(in_, header)) {
      ++line_;
      strip(header);
      if (!header.empty() && header[0] != '#') break;
      header.clear();
    }
    if (header.empty()) throw InputError(fmt::format("{}: line {}: no header line", file.string(), line_));
    // A UTF-8 byte-order mark (spreadsheets write one) once hid the first
    // column's name: take it off.
    if (header.starts_with("\xEF\xBB\xBF")) header.erase(0, 3);
    size_t col = 0;
    split(header);
    for (const std::string_view name : cells_) {
      size_t* slot = name == "len_bytes" ? &len_col_ : name == "time_s" ? &time_col_ : name == "flow" ? &flow_col_ : nullptr;
      // Unknown and repeated columns were accepted (the last len_bytes won).
      if (!slot)
        fail(fmt::format("unknown column \"{}\" (columns: len_bytes, and optionally time_s and flow)",
                         brief(name, 40)));
      if (*slot != npos) fail(fmt::format("column \"{}\" appears twice", name));
      *slot = col;
      ++col;
    }
    columns_ = col;
    cells_.clear();  // views into `header`, which ends here
    if (len_col_ == npos)
      throw InputError(fmt::format("{}: line {}: the header has no len_bytes column", file.string(), line_));
  }

  bool has_time() const { return time_col_ != npos; }
  bool has_flow() const { return flow_col_ != npos; }

  struct Row {
    uint64_t line;
    uint32_t len;
    std::optional<double> time_s;
    uint32_t flow;
  };

  std::optional<Row> next() {
    std::string& text = text_;
    while (std::getline(in_, text)) {
      ++line_;
      strip(text);
      if (text.empty() || text[0] == '#') continue;
      split(text);
      const std::vector<std::string_view>& cells = cells_;
      if (cells.size() != columns_) fail(fmt::format("{} cells, the header has {}", cells.size(), columns_));
      Row r{line_, 0, std::nullopt, 0};
      const double len = number(cells[len_col_], "len_bytes");
      // The range first: casting a double outside uint64_t's range is undefined (-1514 was).
      if (!(len >= 1 && len <= kMaxTraceFrameBytes) || len != std::floor(len))
        fail(fmt::format("len_bytes {} is not a whole number in 1..{}", brief(cells[len_col_], 40), kMaxTraceFrameBytes));
      r.len = static_cast<uint32_t>(len);
      if (time_col_ != npos) {
        const double t = number(cells[time_col_], "time_s");
        if (have_last_ && t < last_time_) ++nonmonotonic_;
        last_time_ = t;
        have_last_ = true;
        if (!origin_) origin_ = t;
        r.time_s = t - *origin_;
      }
      if (flow_col_ != npos) {
        // Flow ids are whole numbers in 0..2^32-2 (-1, 1.5 and 2^64 were taken).
        const double f = number(cells[flow_col_], "flow");
        if (f < 0 || f > 4294967294.0 || f != std::floor(f))
          fail(fmt::format("flow {} is not a whole number in 0..4294967294", brief(cells[flow_col_], 40)));
        r.flow = static_cast<uint32_t>(f) + 1;
      }
      ++rows_;
      return r;
    }
    if (in_.bad()) fail("read error");
    return std::nullopt;
  }

  uint64_t nonmonotonic() const { return nonmonotonic_; }
  uint64_t rows() const { return rows_; }

 private:
  static constexpr size_t npos = static_cast<size_t>(-1);
  static void strip(std::string& s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  }
  /// cells_ = the comma-separated cells of `s`, spaces trimmed: views into
  /// `s`, in a vector kept from row to row (no allocation per row).
  void split(std::string_view s) {
    cells_.clear();
    size_t start = 0;
    while (true) {
      const size_t comma = s.find(',', start);
      std::string_view cell = s.substr(start, comma == std::string_view::npos ? comma : comma - start);
      while (!cell.empty() && cell.front() == ' ') cell.remove_prefix(1);
      while (!cell.empty() && cell.back() == ' ') cell.remove_suffix(1);
      cells_.push_back(cell);
      if (comma == std::string_view::npos) return;
      start = comma + 1;
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: line {}: {}", file_.string(), line_, what));
  }
  double number(std::string_view cell, const char* column) const {
    double v = 0;
    const auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (ec != std::errc() || p != cell.data() + cell.size() || !std::isfinite(v))
      fail(fmt::format("{} \"{}\" is not a number", column, brief(cell, 40)));
    return v;
  }

  std::filesystem::path file_;
  std::ifstream in_;
  std::string text_;                     ///< the line being read
  std::vector<std::string_view> cells_;  ///< its cells (views into text_, or into the header)
  uint64_t line_ = 0, rows_ = 0, nonmonotonic_ = 0;
  size_t columns_ = 0, len_col_ = npos, time_col_ = npos, flow_col_ = npos;
  std::optional<double> origin_;
  bool have_last_ = false;
  double last_time_ = 0;
};

struct CsvSettings {
  std::string file;
  uint64_t loops = 1;
};

const Bindings<CsvSettings>& csv_trace_bindings() {
  using S = CsvSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::file, ParamSpec::string("file", "")
                              .help("CSV trace; relative names resolve against the scenario's directory")
                              .from("required with traffic.kind = csv"))
          .bind(&S::loops, ParamSpec::integer("loops", 1, "passes")
                               .range(1, 1e9)
                               .help("replay the trace this many times, each pass after the previous one")
                               .from("one pass"));
  return b;
}

std::filesystem::path trace_file(const TrafficContext& ctx) {
  const std::string file = csv_trace_bindings().load(ctx.cfg, ctx.prefix).file;
  if (file.empty()) throw InputError(key_to_pointer(ctx.prefix + "file") + ": required when traffic.kind is \"csv\"");
  return ctx.path(ctx.prefix + "file", file);
}

class CsvSource : public TrafficSource {
 public:
  explicit CsvSource(const TrafficContext& ctx)
      : file_(trace_file(ctx)),
        loops_(csv_trace_bindings().load(ctx.cfg, ctx.prefix).loops),
        wire_(WireSettings::bindings().load(ctx.cfg)),
        prefix_(ctx.prefix),
        cache_(loops_) {
    reader_ = std::make_unique<CsvReader>(file_);
    pass_ = 1;
  }
  std::optional<Frame> next() override {
    while (true) {
      if (cache_.replaying()) {
        if (const CachedFrame* c = cache_.next()) return emit(*c);
      } else if (auto r = reader_->next()) {
        const CachedFrame c{r->time_s.value_or(0.0), r->len, r->flow, 0, r->time_s.has_value(), false};
        cache_.record(c);
        return emit(c);
      }
      // A pass replayed from memory misordered what the first did.
      if (!cache_.replaying()) pass_nonmonotonic_ = reader_->nonmonotonic();
      nonmonotonic_ += pass_nonmonotonic_;
      if (pass_ >= loops_ || in_pass_ == 0) return std::nullopt;
      clock_.next_pass();
      if (cache_.next_pass())
        reader_.reset();
      else
        reader_ = std::make_unique<CsvReader>(file_);
      ++pass_;
      in_pass_ = 0;
    }
  }

  Json summary(double) const override {
    return Json{{"packets_read", emitted_}, {"passes", pass_}, {"nonmonotonic_timestamps", nonmonotonic_}};
  }

  std::optional<TraceSpan> trace_span() const override {
    CsvReader r(file_);
    SpanCounter span;
    while (auto row = r.next()) span.add(row->time_s);
    return span.finish(file_.string(), "CSV trace", prefix_, loops_, wire_);
  }

 private:
  Frame emit(const CachedFrame& c) {
    ++emitted_;
    ++in_pass_;
    std::optional<double> t;
    if (c.has_time) t = clock_.stamp(c.time_s);
    return Frame{c.len_bytes, t, c.flow, 0};
  }

  std::filesystem::path file_;
  uint64_t loops_;
  WireSettings wire_;
  std::string prefix_;
  PassCache cache_;
  std::unique_ptr<CsvReader> reader_;
  uint64_t pass_ = 0, emitted_ = 0, in_pass_ = 0, nonmonotonic_ = 0;
  uint64_t pass_nonmonotonic_ = 0;  ///< the last pass read from the file
  PassClock clock_;
};

void csv_validate(const TrafficContext& ctx) {
  const std::filesystem::path file = trace_file(ctx);
  CsvReader r(file);
  uint64_t short_frames = 0;
  while (const auto row = r.next()) short_frames += row->len < kMinEthernetFrame;
  if (r.rows() == 0) throw InputError(fmt::format("{}: no rows to replay", file.string()));
  warn_backward_timestamps(file, r.nonmonotonic());
  warn_short_frames(file, short_frames);
}

std::optional<Json> csv_describe(const std::filesystem::path& file) {
  // A CSV trace is a text file whose header names len_bytes.
  {
    std::ifstream in(file);
    std::string first;
    while (std::getline(in, first) && (first.empty() || first[0] == '#')) {
    }
    if (first.find("len_bytes") == std::string::npos) return std::nullopt;
  }
  CsvReader r(file);
  TraceStats stats;
  RateProfile rates;
  std::unordered_map<std::string, Tally> flows;  // by flow id, when the trace has them
  while (auto row = r.next()) {
    stats.add(row->len, row->time_s);
    if (row->time_s) rates.add(*row->time_s, row->len);
    if (r.has_flow()) flows[std::to_string(row->flow - 1)].add(row->len);
  }
  Json j = stats.to_json(r.has_time());
  std::string format = "csv (len_bytes";
  if (r.has_time()) format += ", time_s";
  if (r.has_flow()) format += ", flow";
  j["format"] = format + ")";
  j["nonmonotonic_timestamps"] = r.nonmonotonic();
  if (r.has_time()) rates.add_to(j);
  // No addresses: what the trace has (its flow ids), and that the rest is unknown.
  Json fl;
  if (r.has_flow()) {
    fl["count"] = flows.size();
    fl["top"] = top_by_bytes(flows, 10, "flow", [](const std::string& id) { return "flow " + id; });
  }
  fl["note"] = std::string("a CSV trace has no addresses: its 5-tuples, directions and a filter are unknown") +
               (r.has_flow() ? " (flows listed by the flow column's ids)" : "") +
               (r.has_time() ? "" : "; no time_s column: no rates or gaps");
  j["flows"] = fl;
  return j;
}

const Registrar<TrafficInfo> kRegisteredCsvTrace{TrafficInfo{
    "csv", "replays a CSV trace (len_bytes, optional time_s and flow columns), streaming",
    [](ParamTable& t, const std::string& p) { csv_trace_bindings().declare(t, p); },
    [](const TrafficContext& ctx) -> std::unique_ptr<TrafficSource> { return std::make_unique<CsvSource>(ctx); },
    csv_validate, csv_describe}};

}  // namespace
}  // namespace vringsim

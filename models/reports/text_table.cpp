// The side-by-side table `vringsim run` prints: a row per run.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

struct Column {
  const char* title;
  const char* key;         // JSON pointer into summary.json
  int precision;           // -1: integer
  bool per_queue = false;  // a total over the rings, shown per queue (divided by topology.queues)
};

// One scope per group of columns, named in the header: the ring's geometry
// and memory per receive queue ("/q": with a topology summary.json's
// memory.posted_bytes_full is every ring's, ring.bytes one ring's), the
// rates, drops and latency over the measured window (the caption says so).
const Column kColumns[] = {
    {"policy", "/policy/name", 0},
    {"ring", "/ring/size", -1},
    {"ring B/q", "/ring/bytes", -1},
    {"desc/slot", "/ring/descriptors_per_slot_mtu", -1},
    {"slots MTU", "/ring/capacity_packets_mtu", -1},
    {"slots 64K", "/ring/capacity_packets_64k", -1},
    {"unusable", "/ring/unusable_descriptors", -1},
    {"posted B/q", "/memory/posted_bytes_full", -1, true},
    {"Gb/s", "/throughput/delivered_gbps", 3},
    {"pkt/s", "/throughput/delivered_pps", 0},
    {"drops", "/throughput/dropped_packets", -1},
    {"p99 us", "/latency_us/p99", 1},
};

/// The caption under the table: which columns cover what.
constexpr const char* kCaption =
    "Gb/s, pkt/s, drops, p99 us: measured window (after measure.warmup_s); ring B/q, posted B/q: one receive "
    "queue's ring and its buffers when full";

/// A figure with `precision` decimals where those show at least two
/// significant digits, else with 3 significant digits (a low-rate capture):
/// 0.000525 and 0.000425 Gb/s print alike, not as 0.001 and 0.000425.
std::string figure_text(double v, int precision) {
  if (v == 0 || std::fabs(v) >= std::pow(10.0, 1 - precision)) return fmt::format("{:.{}f}", v, precision);
  return fmt::format("{:.3g}", v);
}

/// Prints rows (the first is the header) in aligned columns: the first
/// `text_columns` left-aligned, the rest right-aligned.
void print_aligned(std::ostream& os, const std::vector<std::vector<std::string>>& cells, size_t text_columns) {
  std::vector<size_t> width(cells.front().size(), 0);
  for (const auto& row : cells)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) line += "  ";
      line += i < text_columns ? fmt::format("{:<{}}", row[i], width[i]) : fmt::format("{:>{}}", row[i], width[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  }
}

/// Runs with a topology: what the guests pin and what each gets.
void print_capacity(std::ostream& os, const std::vector<RunResult>& rs) {
  std::vector<std::vector<std::string>> cells = {{"run", "guests", "queues", "host cores", "pinned MiB",
                                                  "MiB/guest", "Gb/s", "Gb/s/guest min", "mean", "max", "drops",
                                                  "host CPU", "p99 us", "Jain"}};
  constexpr double kMiB = 1024.0 * 1024.0;
  for (const auto& r : rs) {
    const auto& s = r.summary;
    if (!s.contains("per_guest")) continue;
    const Json& gbps = s["per_guest"]["throughput.delivered_gbps"];
    const double lo = gbps["min"].get<double>(), mean = gbps["mean"].get<double>(), hi = gbps["max"].get<double>();
    const double guests = static_cast<double>(s["topology"]["guests"].get<uint64_t>());
    const double pinned = static_cast<double>(s["memory"]["pinned_bytes_total"].get<uint64_t>()) / kMiB;
    cells.push_back({r.name, fmt::format("{}", s["topology"]["guests"].get<uint64_t>()),
                     fmt::format("{}", s["topology"]["queues"].get<uint64_t>()),
                     fmt::format("{}", s["topology"]["host_cores"].get<uint64_t>()), fmt::format("{:.1f}", pinned),
                     fmt::format("{:.2f}", pinned / guests),
                     fmt::format("{:.3f}", s["throughput"]["delivered_gbps"].get<double>()),
                     fmt::format("{:.3f}", lo), fmt::format("{:.3f}", mean), fmt::format("{:.3f}", hi),
                     fmt::format("{}", s["throughput"]["dropped_packets"].get<uint64_t>()),
                     fmt::format("{:.0f}%", 100 * s["cpu"]["host_utilization"].get<double>()),
                     fmt::format("{:.1f}", s["latency_us"]["p99"].get<double>()),
                     fmt::format("{:.4f}", s["fairness"]["jain_throughput"].get<double>())});
  }
  if (cells.size() == 1) return;
  os << "\nper guest (pinned: all rings plus the peak of posted buffers, whole run; Gb/s, drops, host CPU, p99: "
        "measured window; Jain: fairness of per-guest Gb/s)\n";
  print_aligned(os, cells, 1);
}

class TextTable : public ReportWriter {
 public:
  void print(std::ostream& os, const std::vector<RunResult>& rs) const override {
    std::vector<std::vector<std::string>> cells;
    std::vector<std::string> head = {"run"};
    for (const auto& c : kColumns) head.emplace_back(c.title);
    cells.push_back(head);
    bool unmeasured = false, unsteady = false;
    for (const auto& r : rs) {
      const bool valid = r.summary.value(nlohmann::json::json_pointer("/measure/valid"), true);
      const auto steady_ptr = nlohmann::json::json_pointer("/measure/steady");
      const bool steady = !r.summary.contains(steady_ptr) || r.summary.at(steady_ptr) != false;
      unmeasured |= !valid;
      unsteady |= valid && !steady;
      std::vector<std::string> row = {!valid ? r.name + " *" : !steady ? r.name + " ~" : r.name};
      for (const auto& c : kColumns) {
        const auto ptr = nlohmann::json::json_pointer(c.key);
        if (!r.summary.contains(ptr)) {
          row.emplace_back("-");
          continue;
        }
        const auto& v = r.summary.at(ptr);
        if (v.is_string())
          row.push_back(v.get<std::string>());
        else if (c.precision < 0 && c.per_queue)
          row.push_back(fmt::format("{}", v.get<int64_t>() / std::max<int64_t>(1, r.summary.value(
                                                                  nlohmann::json::json_pointer("/topology/queues"),
                                                                  int64_t{1}))));
        else if (c.precision < 0)
          row.push_back(fmt::format("{}", v.get<int64_t>()));
        else
          row.push_back(figure_text(v.get<double>(), c.precision));
      }
      cells.push_back(std::move(row));
    }
    print_aligned(os, cells, 2);  // run and policy
    os << kCaption << "\n";
    if (unmeasured) os << "* nothing measured: its figures are not results (summary.json measure.problem says why)\n";
    if (unsteady)
      os << "~ not in steady state: a backlog, the posted memory or the delivered rate still moving over the "
            "measured window (summary.json measure.steady_problem)\n";
    print_capacity(os, rs);
  }
};

const Registrar<WriterInfo> kRegisteredTextTable{WriterInfo{
    "table", "a side-by-side table of the runs on standard output", [] { return std::make_unique<TextTable>(); }}};

}  // namespace
}  // namespace vringsim

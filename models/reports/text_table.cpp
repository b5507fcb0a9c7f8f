// The side-by-side table `vringsim run` prints: a row per run.
#include <fmt/format.h>

#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

struct Column {
  const char* title;
  const char* key;  // JSON pointer into summary.json
  int precision;    // -1: integer
};

const Column kColumns[] = {
    {"policy", "/policy/name", 0},
    {"ring", "/ring/size", -1},
    {"ring B", "/ring/bytes", -1},
    {"desc/slot", "/ring/descriptors_per_slot_mtu", -1},
    {"slots MTU", "/ring/capacity_packets_mtu", -1},
    {"slots 64K", "/ring/capacity_packets_64k", -1},
    {"unusable", "/ring/unusable_descriptors", -1},
    {"posted B", "/memory/posted_bytes_full", -1},
    {"Gb/s", "/throughput/delivered_gbps", 3},
    {"pkt/s", "/throughput/delivered_pps", 0},
    {"drops", "/packets/dropped", -1},
    {"p99 us", "/latency_us/p99", 1},
};

class TextTable : public ReportWriter {
 public:
  void print(std::ostream& os, const std::vector<RunResult>& rs) const override {
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width;
    std::vector<std::string> head = {"run"};
    for (const auto& c : kColumns) head.emplace_back(c.title);
    cells.push_back(head);
    for (const auto& r : rs) {
      std::vector<std::string> row = {r.name};
      for (const auto& c : kColumns) {
        const auto ptr = nlohmann::json::json_pointer(c.key);
        if (!r.summary.contains(ptr)) {
          row.emplace_back("-");
          continue;
        }
        const auto& v = r.summary.at(ptr);
        if (v.is_string())
          row.push_back(v.get<std::string>());
        else if (c.precision < 0)
          row.push_back(fmt::format("{}", v.get<int64_t>()));
        else
          row.push_back(fmt::format("{:.{}f}", v.get<double>(), c.precision));
      }
      cells.push_back(std::move(row));
    }
    width.assign(head.size(), 0);
    for (const auto& row : cells)
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (const auto& row : cells) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        // Text columns left-aligned, numbers right-aligned.
        const bool left = i <= 1;
        if (i) line += "  ";
        line += left ? fmt::format("{:<{}}", row[i], width[i]) : fmt::format("{:>{}}", row[i], width[i]);
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      os << line << "\n";
    }
  }
};

const Registrar<WriterInfo> kRegistered{WriterInfo{"table", "a side-by-side table of the runs on standard output",
                                                   [] { return std::make_unique<TextTable>(); }}};

}  // namespace
}  // namespace vringsim

// guests.csv and queues.csv: a run with a topology, one row per guest and
// one per receive queue (long format), in topology order. Columns: the
// guest's name (and the queue's index within the guest and across the run),
// then the guest's or queue's figures flattened as runs.csv flattens the
// summary, in natural order. Every guest has the same keys, so every row has
// every column; summary.json keeps the totals and `per_guest` spreads
// (docs/contract.md).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

using Row = std::vector<std::pair<std::string, std::string>>;

class GuestsCsv : public ReportWriter {
 public:
  bool writes_sweep_points() const override { return true; }
  void write_run(const std::filesystem::path& dir, const RunResult& r) const override {
    if (r.guest_order.empty()) return;  // no topology: the summary is the one guest
    std::vector<Row> guests, queues;
    uint64_t global = 0;
    for (const std::string& name : r.guest_order) {
      Json g = r.guests.at(name);
      Json qs = g.contains("queues") ? std::move(g["queues"]) : Json::object();
      g.erase("queues");
      Row row = {{"guest", name}};
      for (auto& kv : flatten(g)) row.push_back(std::move(kv));
      guests.push_back(std::move(row));
      for (size_t q = 0; q < qs.size(); ++q) {
        Row qrow = {{"guest", name}, {"queue", std::to_string(q)}, {"queue_global", std::to_string(global++)}};
        for (auto& kv : flatten(qs.at(std::to_string(q)))) qrow.push_back(std::move(kv));
        queues.push_back(std::move(qrow));
      }
    }
    write_file_atomic(dir / "guests.csv", rows_text({"guest"}, guests));
    write_file_atomic(dir / "queues.csv", rows_text({"guest", "queue", "queue_global"}, queues));
  }

 private:
  static std::string rows_text(const std::vector<std::string>& lead, std::vector<Row>& rows) {
    // natural_columns() over the figures only: drop the lead pairs first.
    std::vector<Row> figures;
    figures.reserve(rows.size());
    for (const Row& row : rows) figures.emplace_back(row.begin() + static_cast<std::ptrdiff_t>(lead.size()), row.end());
    const std::vector<std::string> keys = natural_columns(figures);
    std::vector<std::string> header = lead;
    header.insert(header.end(), keys.begin(), keys.end());
    std::string out = csv_line(header);
    std::vector<std::string> cells;
    for (size_t r = 0; r < rows.size(); ++r) {
      cells.clear();
      for (size_t i = 0; i < lead.size(); ++i) cells.push_back(rows[r][i].second);
      Row& f = figures[r];
      std::stable_sort(f.begin(), f.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
      for (const auto& k : keys) {
        auto it = std::lower_bound(f.begin(), f.end(), k,
                                   [](const auto& kv, const std::string& key) { return kv.first < key; });
        cells.push_back(it != f.end() && it->first == k ? it->second : std::string());
      }
      out += csv_line(cells);
    }
    return out;
  }
};

const Registrar<WriterInfo> kRegistered{
    WriterInfo{"guests-csv",
               "DIR/<run>/guests.csv and queues.csv: with a topology, one row per guest and per receive queue",
               [] { return std::make_unique<GuestsCsv>(); }}};

}  // namespace
}  // namespace vringsim

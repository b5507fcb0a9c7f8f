// runs.csv: one row per run, columns are the flattened summary keys in
// natural order, so files from different calls concatenate (CONTRACT.md).
#include <map>
#include <set>

#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

class RunsCsv : public ReportWriter {
 public:
  void write_all(const std::filesystem::path& dir, const std::vector<RunResult>& rs) const override {
    std::vector<std::map<std::string, std::string>> rows;
    std::set<std::string, decltype(&natural_less)> columns(&natural_less);
    for (const auto& r : rs) {
      std::map<std::string, std::string> row;
      for (auto& [k, v] : flatten(r.summary)) {
        columns.insert(k);
        row.emplace(k, v);
      }
      rows.push_back(std::move(row));
    }
    std::string out = csv_line(std::vector<std::string>(columns.begin(), columns.end()));
    std::vector<std::string> cells;
    for (const auto& row : rows) {
      cells.clear();
      for (const auto& c : columns) {
        auto it = row.find(c);
        cells.push_back(it == row.end() ? std::string() : it->second);
      }
      out += csv_line(cells);
    }
    write_file_atomic(dir / "runs.csv", out);
  }
};

const Registrar<WriterInfo> kRegistered{WriterInfo{"runs-csv",
                                                   "DIR/runs.csv: one row per run, every summary key as a column",
                                                   [] { return std::make_unique<RunsCsv>(); }}};

}  // namespace
}  // namespace vringsim

// runs.csv: one row per run folder in DIR (this call's and earlier ones'),
// in name order; columns are the flattened summary keys in natural order, so
// files from different calls concatenate (CONTRACT.md).
#include <iostream>
#include <map>
#include <set>

#include "sim/core/errors.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {
namespace {

class RunsCsv : public ReportWriter {
 public:
  void write_all(const std::filesystem::path& dir, const std::vector<RunResult>& rs) const override {
    // Every run folder in DIR, not only this call's: runs added to DIR by
    // earlier calls stay listed (six calls into one DIR once left one row).
    // This call's results stand for their own folders.
    std::map<std::string, Json> summaries;  // by run name: rows in name order
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const auto file = entry.path() / "summary.json";
      // Hidden folders are a run being written (".NAME.tmp.PID"), not a run.
      if (entry.path().filename().string().starts_with(".")) continue;
      if (!entry.is_directory() || !std::filesystem::is_regular_file(file)) continue;
      try {
        Json j = read_json_file(file.string());
        if (j.is_object()) summaries[entry.path().filename().string()] = std::move(j);
      } catch (const InputError& e) {
        std::cerr << "vringsim: runs.csv leaves out " << file.string() << ": " << e.what() << "\n";
      }
    }
    for (const auto& r : rs) summaries[r.name] = r.summary;
    std::vector<std::map<std::string, std::string>> rows;
    std::set<std::string, decltype(&natural_less)> columns(&natural_less);
    for (const auto& [name, summary] : summaries) {
      std::map<std::string, std::string> row;
      for (auto& [k, v] : flatten(summary)) {
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

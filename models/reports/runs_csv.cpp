// runs.csv: one row per run folder in DIR (this call's and earlier ones'),
// in name order; columns are the flattened summary keys in natural order, so
// files from different calls concatenate (docs/contract.md).
#include <algorithm>
#include <iostream>
#include <map>

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
    // This call's results stand for their own folders, which are not read.
    std::map<std::string, const Json*> summaries;  // by run name: rows in name order
    for (const auto& r : rs) summaries[r.name] = &r.summary;
    std::vector<std::pair<std::string, Json>> read;  // earlier runs, from their folders
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      // Hidden folders are a run being written (".NAME.tmp.PID"), not a run.
      if (name.starts_with(".") || summaries.contains(name)) continue;
      const auto file = entry.path() / "summary.json";
      if (!entry.is_directory() || !std::filesystem::is_regular_file(file)) continue;
      try {
        Json j = read_summary_file(file.string());
        if (j.is_object()) read.emplace_back(std::move(name), std::move(j));
      } catch (const InputError& e) {
        std::cerr << "vringsim: runs.csv leaves out " << file.string() << ": " << e.what() << "\n";
      }
    }
    for (const auto& [name, j] : read) summaries[name] = &j;
    // A 128 x 4 run's summary flattens to 38,690 keys: rows are sorted
    // vectors and the columns one sorted list, not a map per row and a set.
    std::vector<std::vector<std::pair<std::string, std::string>>> rows;
    for (const auto& [name, summary] : summaries) rows.push_back(flatten(*summary));
    const std::string out = csv_table({}, {}, rows);
    write_file_atomic(dir / "runs.csv", out);
  }
};

const Registrar<WriterInfo> kRegisteredRunsCsv{WriterInfo{"runs-csv",
                                                   "DIR/runs.csv: one row per run, every summary key as a column",
                                                   [] { return std::make_unique<RunsCsv>(); }}};

}  // namespace
}  // namespace vringsim

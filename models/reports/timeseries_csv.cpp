// timeseries.csv: the ring, posted memory and tap queue sampled every
// measure.sample_interval_s, with cumulative packet counts.
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

class TimeseriesCsv : public ReportWriter {
 public:
  void write_run(const std::filesystem::path& dir, const RunResult& r) const override {
    if (!r.ts_file.empty()) {
      // Streamed while the run went (constant memory): move it into place,
      // whole or not at all (the file sits in the output directory: one
      // file system, so the rename is atomic).
      move_file_atomic(r.ts_file, dir / "timeseries.csv");
      return;
    }
    std::string out = csv_line(r.ts_columns);
    std::vector<std::string> cells;
    auto emit = [&](const std::vector<double>& row) {
      cells.clear();
      for (double v : row) cells.push_back(number_text(v));
      out += csv_line(cells);
    };
    IdleRowThinner thin(r.ts_skip_idle);
    for (const auto& row : r.ts_rows) thin.add(row, emit);
    thin.finish(emit);
    write_file_atomic(dir / "timeseries.csv", out);
  }
};

const Registrar<WriterInfo> kRegisteredTimeseriesCsv{WriterInfo{"timeseries-csv",
                                                   "DIR/<name>/timeseries.csv: ring, memory and queue levels over time",
                                                   [] { return std::make_unique<TimeseriesCsv>(); }}};

}  // namespace
}  // namespace vringsim

// timeseries.csv: the ring, posted memory and tap queue sampled every
// measure.sample_interval_s, with cumulative packet counts.
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

class TimeseriesCsv : public ReportWriter {
 public:
  void write_run(const std::filesystem::path& dir, const RunResult& r) const override {
    std::string out;
    for (size_t i = 0; i < r.ts_columns.size(); ++i) out += (i ? "," : "") + r.ts_columns[i];
    out += "\n";
    for (const auto& row : r.ts_rows) {
      for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + number_text(row[i]);
      out += "\n";
    }
    write_file_atomic(dir / "timeseries.csv", out);
  }
};

const Registrar<WriterInfo> kRegistered{WriterInfo{
    "timeseries-csv", "DIR/<name>/timeseries.csv: ring, memory and queue levels over time",
    [] { return std::make_unique<TimeseriesCsv>(); }}};

}  // namespace
}  // namespace vringsim

// summary.json: every figure of one run (CONTRACT.md "summary.json keys"),
// nested objects whose dotted paths are the contract's keys.
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

class SummaryJson : public ReportWriter {
 public:
  void write_run(const std::filesystem::path& dir, const RunResult& r) const override {
    write_file_atomic(dir / "summary.json", r.summary.dump(2) + "\n");
  }
};

const Registrar<WriterInfo> kRegisteredSummaryJson{
    WriterInfo{"summary-json", "DIR/<name>/summary.json: every figure of the run, and the resolved configuration",
               [] { return std::make_unique<SummaryJson>(); }}};

}  // namespace
}  // namespace vringsim

// guests.csv and queues.csv: a run with a topology, one row per guest and
// one per receive queue (long format), in topology order. Columns: the
// guest's name (and the queue's index within the guest and across the run),
// then the guest's or queue's figures flattened as runs.csv flattens the
// summary, in natural order. Every guest has the same keys, so every row has
// every column; summary.json keeps the totals and `per_guest` spreads
// (docs/contract.md).
#include <string>
#include <utility>
#include <vector>

#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

using Row = std::vector<std::pair<std::string, std::string>>;  // a guest's or queue's flattened figures

class GuestsCsv : public ReportWriter {
 public:
  bool writes_sweep_points() const override { return true; }
  void write_run(const std::filesystem::path& dir, const RunResult& r) const override {
    if (r.guest_order.empty()) return;  // no topology: the summary is the one guest
    std::vector<Row> guests, queues;
    std::vector<std::vector<std::string>> guest_lead, queue_lead;
    uint64_t global = 0;
    for (const std::string& name : r.guest_order) {
      // Read in place: a copy of each guest (its queues with it) cost as
      // much as flattening it.
      const Json& g = r.guests.at(name);
      guest_lead.push_back({name});
      guests.push_back(flatten_except(g, "queues"));
      const auto qs = g.find("queues");
      if (qs == g.end()) continue;
      for (size_t q = 0; q < qs->size(); ++q) {
        queue_lead.push_back({name, std::to_string(q), std::to_string(global++)});
        queues.push_back(flatten(qs->at(std::to_string(q))));
      }
    }
    write_file_atomic(dir / "guests.csv", csv_table({"guest"}, guest_lead, guests));
    write_file_atomic(dir / "queues.csv", csv_table({"guest", "queue", "queue_global"}, queue_lead, queues));
  }
};

const Registrar<WriterInfo> kRegisteredGuestsCsv{
    WriterInfo{"guests-csv",
               "DIR/<run>/guests.csv and queues.csv: with a topology, one row per guest and per receive queue",
               [] { return std::make_unique<GuestsCsv>(); }}};

}  // namespace
}  // namespace vringsim

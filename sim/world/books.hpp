// Closes a run's books: checks conservation queue by queue from counts the
// actors keep themselves (frames the device admitted and dropped by reason,
// frames the driver delivered, what is still queued, held or being
// processed), checks the metrics' event counts against them, then assembles
// summary.json: every metric's keys, the ring's figures, the books, and with
// a topology every guest's and queue's own.
#pragma once

#include "sim/core/report.hpp"
#include "sim/world/world_builder.hpp"

namespace vringsim {

class Books {
 public:
  explicit Books(World& world) : w_(world) {}
  /// Throws InvariantError naming the first broken invariant.
  RunResult close();

  struct Tally {
    uint64_t packets = 0, bytes = 0;
  };
  struct Ledger {
    Tally arrived, delivered, dropped, in_flight;
    void add(const Ledger& o);
  };

 private:
  Ledger queue_ledger(uint32_t k) const;
  /// Frees queue k's ring, posted-chain records and per-head writes once
  /// its ledger is taken (nothing after reads them).
  void release_ring(uint32_t k);
  void check_conservation(const Ledger& b, const std::string& where) const;
  void check_events(const Json& counted, const Ledger& b, const std::string& where) const;
  Json measured(const MetricSet& metrics) const;
  Json run_summary();
  /// What to do when nothing was measured: for a replayed trace, where its
  /// frames fall against stop.time_s and measure.warmup_s, and the setting to change.
  std::string unmeasured_advice() const;
  void judge_steady_state(Json& measure, double warmup) const;
  void add_device_figures(Json& s) const;
  /// `queue_measured`: each queue's metric keys, as close() wrote them for its checks.
  void add_topology(Json& s, RunResult& result, const std::vector<Ledger>& ledgers,
                    std::vector<Json> queue_measured) const;
  void add_provenance(Json& s) const;
  /// ring.knee_slots, ring.knee_entries: the ring below which a queue's
  /// device starves at this run's rate (sim/core/ring_knee.hpp).
  void add_ring_knee(Json& s) const;
  void write_trace() const;

  World& w_;
};

}  // namespace vringsim

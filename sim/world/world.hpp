// One simulation: builds the SimGrid platform in code, wires the traffic
// source, host device and guest driver around one virtqueue, runs, checks
// conservation and the ring's invariants, and returns the run's results.
// SimGrid allows one engine per process (SIMGRID.md): call this once per
// process (the runner forks a child per run).
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {

struct RunOptions {
  std::string trace_path;         ///< per-event CSV; empty: none
  uint64_t trace_limit = 100000;  ///< rows at most
  /// Verify the whole descriptor state (check_descriptor_graph) after every
  /// event; slow (O(ring size) per event), for tests and debugging.
  bool check = false;
};

/// The vringsim version string (provenance.version).
const char* version();

/// Runs one scenario. Throws InvariantError if conservation or a ring
/// invariant breaks.
RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

}  // namespace vringsim

// Runs each simulation in a child process (SimGrid: one engine per process)
// and brings its results back over a pipe.
#pragma once

#include <string>

#include "sim/world/world.hpp"

namespace vringsim {

struct RunOutcome {
  int exit_code = 0;    ///< the child's: 0 ok, 3 invariant broken, other: crashed
  RunResult result;     ///< valid when exit_code == 0
  long max_rss_kb = 0;  ///< the child's peak resident memory (for benchmarks; never in results)
};

RunOutcome run_in_child(const Scenario& scenario, const RunOptions& options);

}  // namespace vringsim

// Runs each simulation in a child process (SimGrid: one engine per process)
// and brings its results back over a pipe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/world/world.hpp"

namespace vringsim {

struct RunOutcome {
  int exit_code = 0;    ///< the child's: 0 ok, 3 invariant broken, other: crashed
  RunResult result;     ///< valid when exit_code == 0
  long max_rss_kb = 0;  ///< the child's peak resident memory (for benchmarks; never in results)
};

RunOutcome run_in_child(const Scenario& scenario, const RunOptions& options);

/// Each scenario in its own child, `jobs` at a time, outcomes in the order
/// given. Every fork happens from the calling thread and no other thread is
/// started: a child forked while another thread of the parent held a lock
/// (the sanitizer's allocator, malloc, a static's guard) inherits it locked
/// and waits forever (`vringsim sensitivity` hung that way under ASan when
/// it ran a thread per job).
std::vector<RunOutcome> run_in_children(const std::vector<Scenario>& scenarios, const RunOptions& options,
                                        unsigned jobs);
/// The same with each scenario's own options (`options[i]`), handing each
/// outcome to `done(i, outcome)` in the order given, as soon as it and every
/// earlier one have finished (so what `done` writes lands in order).
void run_in_children(const std::vector<Scenario>& scenarios, const std::vector<RunOptions>& options, unsigned jobs,
                     const std::function<void(size_t, RunOutcome&&)>& done);

}  // namespace vringsim

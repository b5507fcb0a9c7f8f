// One simulation: a World is built from the scenario (world_builder.hpp),
// driven through simulated time (run_loop.hpp), and its books closed into the
// run's results, conservation and invariants checked (books.hpp).
// SimGrid allows one engine per process (docs/model.md §7): call this once per
// process (the runner forks a child per run).
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"
#include "sim/world/timeseries.hpp"

namespace vringsim {

struct RunOptions {
  /// The sampled rows: kept in RunResult::ts_rows, streamed to
  /// `timeseries_path` as they are taken (RunResult::ts_file), or dropped.
  TimeseriesMode timeseries = TimeseriesMode::Keep;
  std::string timeseries_path;
  std::string trace_path;          ///< per-event log (run --trace); empty: none
  std::string trace_format;        ///< its format: a registered EventLogInfo (the command line names it)
  uint64_t trace_limit = 100000;   ///< rows at most
  /// Verify the whole descriptor state (check_descriptor_graph) after every
  /// event; slow (O(ring size) per event), for tests and debugging.
  bool check = false;
  /// Keep every descriptor's state and check each transition
  /// (SplitRing::set_descriptor_tracking) even where neither `check` nor
  /// fault injection needs it. The figures are the same (tests compare).
  bool track_descriptors = false;
  /// A lone receive queue's device and driver skip the sleeps no other
  /// task can cut short (sim/engine/actor_clock.hpp). Off, every sleep is the
  /// task loop's (sim/engine/task_loop.hpp): the outputs are the same (tests
  /// compare), only slower.
  bool lookahead = true;
  /// Simultaneous events the model's order leaves free (same time, same
  /// phase: docs/model.md §7) run in an order drawn from this seed, not the
  /// order they were made in (0). For tests/engine/.
  uint64_t shuffle_seed = 0;
  /// Frames dropped on arrival are published as runs (FramesDropped, one
  /// event and one --trace row a run); off, a FrameArrived and a
  /// FrameDropped each. Every figure is the same either way (tests compare).
  bool drop_runs = true;
};

/// The vringsim version string (provenance.version).
const char* version();

/// Runs one scenario. Throws InvariantError if conservation or a ring
/// invariant breaks.
RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

/// Brings the simulation engine (SimGrid and the actors) into the process if
/// it is not linked in: the vringsim executable loads it from a module
/// beside itself only for the commands that simulate, since loading SimGrid
/// (and the ns-3 libraries Debian's build links it to) took 25 of the 32 ms
/// of `vringsim --version`. Call it before forking children, so that they
/// share it. Throws std::runtime_error if the module cannot be loaded.
void load_engine();

/// run_scenario()'s work, inside the engine.
RunResult simulate(const Scenario& scenario, const RunOptions& options);

}  // namespace vringsim

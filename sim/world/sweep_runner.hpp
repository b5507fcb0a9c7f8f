// Running a sweep: one child process per run (SimGrid: one engine per
// process), --jobs at a time, each writing DIR/points/<id>/rep-<k>/summary.json
// atomically. DIR/results.csv is rebuilt from those files, so a rerun after
// any interruption (even SIGKILL) skips what is done and ends with exactly
// the results.csv an uninterrupted run writes.
#pragma once

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "sim/core/sweep.hpp"

namespace vringsim {

struct SweepOptions {
  std::filesystem::path out;
  unsigned jobs = 1;
  std::optional<std::pair<uint32_t, uint32_t>> shard;  ///< (K, N), 1-based
  bool dry_run = false;
  const char* jobs_from = "--jobs";  ///< where `jobs` came from (printed by --dry-run)
};

/// Returns the exit code: 0 all runs ok, 1 some failed (recorded in
/// DIR/failures.csv). Bad input throws InputError before anything runs.
int run_sweep(const Sweep& sweep, const SweepOptions& options);

/// Combines shard directories of one sweep into `out`. Every input is checked
/// before anything is written; a set of shards that misses one, or a run that
/// never ended, is bad input unless `partial`, which marks the result partial
/// (sweep.json "partial": true, aggregate.csv column "partial").
int merge_sweeps(const std::vector<std::filesystem::path>& dirs, const std::filesystem::path& out,
                 bool partial = false);

}  // namespace vringsim

// Parameter sweeps: a base scenario and axes over any scenario key, combined
// as a full grid, zipped lists, or random samples; replications with seeds
// derived from the sweep's seed and the point. Plain C++: expanding and
// validating a sweep runs nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/params.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {

/// Limits, checked before any point is made (documented in docs/contract.md):
/// every point is validated by loading its scenario before anything runs.
inline constexpr uint64_t kMaxSweepPoints = 100000;
inline constexpr uint64_t kMaxSweepRuns = 1000000;
struct SweepLimits {
  uint64_t points = kMaxSweepPoints;
  uint64_t runs = kMaxSweepRuns;
};

struct SweepPoint {
  size_t index = 0;  ///< position in expansion order
  std::string id;    ///< stable: derived from the point's parameters
  Json values;       ///< dotted key -> value (the axes' values at this point)
};

struct Sweep {
  std::string file;
  std::string name;
  Json base;                ///< the base scenario document (inline or read from `base`)
  std::string base_source;  ///< what errors about the base name
  std::string base_dir;     ///< where the base's file names resolve
  std::vector<SweepPoint> points;
  uint32_t replications = 1;
  uint64_t seed = 1;
  double timeout_s = 0;                ///< per run; 0: none
  std::vector<std::string> overrides;  ///< --set, applied after the axes
  std::string sha256;                  ///< identifies the sweep (points, seeds, base, overrides)
  /// With --override-axis: one line per --set that overrides an axis (the
  /// points carry the value run, so every report shows it), for stderr.
  std::vector<std::string> axis_overrides;

  /// The seed of replication `rep` of `point`.
  uint64_t seed_of(const SweepPoint& point, uint32_t rep) const;
  /// The --set style overrides of one run: the axes, the seed, then --set.
  std::vector<std::string> run_overrides(const SweepPoint& point, uint32_t rep) const;
  /// Loads and validates one run's scenario (the base as checked when the
  /// sweep was read).
  Scenario scenario(const SweepPoint& point, uint32_t rep) const;
};

/// Reads and expands a sweep file; checks its keys and every point's
/// scenario. Bad input throws InputError; with several bad points the
/// message names the first ten, one per line, and counts the rest.
/// `limits`: the documented ones; the fuzz target lowers them (validating
/// 100,000 points takes seconds, and the fuzzer should not wait on that).
/// A --set whose key is an axis's (or contains one, or lies inside one) is
/// bad input: every point would run the --set value while the reports named
/// the axis's. With `override_axis` it is applied, and the points' values
/// become the values run (equal points merge).
Sweep load_sweep(const std::string& path, const std::vector<std::string>& overrides = {},
                 const SweepLimits& limits = {}, bool override_axis = false);
/// The same for a sweep whose text is already in memory, as if read from
/// `path` (errors name it, and `base` resolves beside it); the file itself is
/// not read. The fuzz target hands its input over this way: writing it to a
/// file and reading it back, for every input, cost more than parsing it.
Sweep load_sweep_text(const std::string& path, const std::string& text, const std::vector<std::string>& overrides = {},
                      const SweepLimits& limits = {}, bool override_axis = false);

/// "K/N" -> (K, N), 1-based; throws InputError.
std::pair<uint32_t, uint32_t> parse_shard(const std::string& text);

}  // namespace vringsim

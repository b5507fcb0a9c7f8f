// vringsim diff A B: two result directories side by side, figure by figure
// (every summary.json under each, matched by its path: run folders of
// `run --out`, the runs of a sweep), with the change of each figure that
// moved relative to A. By default the results only: the diagnostics of how
// a run was measured (measure.* but valid and steady, run.*, check.*) only
// with --all or when --only names them. A regression gate for a user's own scenario set:
// exit 1 when a figure moved by more than --tolerance, or a run is on one
// side only.
#pragma once

#include <string>
#include <vector>

#include "app/command.hpp"

namespace vringsim {

struct DiffOptions {
  double tolerance = 0;             ///< |change| allowed; change = (B - A) / max(|A|, floor)
  double floor = 1e-9;              ///< absolute floor of the change's denominator (noise around 0)
  bool all = false;                 ///< compare the diagnostics too (measure.*, run.*, check.*)
  bool list = false;                ///< list every figure compared, not only those that moved
  std::vector<std::string> only;    ///< compare only these keys (dotted globs or prefixes)
  std::vector<std::string> ignore;  ///< never compare these
};

/// Exit code: 0 nothing moved beyond `tolerance`, 1 something did, 2 bad
/// input (a directory that does not exist or holds no summary, an --only
/// that matches nothing, a negative tolerance or floor).
int cmd_diff(const std::string& a, const std::string& b, const DiffOptions& options);

/// `vringsim diff`: adds the command to `app` (app/command.hpp).
Command diff_command(CLI::App& app);

}  // namespace vringsim

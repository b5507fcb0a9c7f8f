// vringsim sensitivity FILE: how much each cost parameter moves the
// figures a user reads. The scenario runs as given and with each cost moved
// down and up by a share (--rel, default 0.1), one process per run, --jobs
// at a time; for each cost it prints the elasticity of delivered Gb/s, of
// the drops and of the p99 latency,
//   E = (f(v (1 + rel)) - f(v (1 - rel))) / (2 rel f(v)),
// the relative change of the figure per relative change of the cost, sorted
// by the largest, with the cost's origin (calibrated, estimate, ...): a
// figure that leans on an estimate deserves less trust than one that does
// not. Same seed in every run (common random numbers).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/command.hpp"

namespace vringsim {

struct SensitivityArgs {
  std::string file;
  std::vector<std::string> sets;
  double rel = 0.1;
  std::optional<std::string> params;  ///< comma-separated cost keys; none: every cost above 0
  unsigned jobs = 1;
  std::optional<std::string> csv;     ///< also write the table here
};

int cmd_sensitivity(const SensitivityArgs& a);

/// `vringsim sensitivity`: adds the command to `app` (app/command.hpp).
Command sensitivity_command(CLI::App& app);

}  // namespace vringsim

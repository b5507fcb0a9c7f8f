// A user's files looked at, nothing simulated: vringsim validate FILES...
// (scenario, sweep and calibration files checked), trace-info FILE (a
// capture or CSV trace described) and topology FILE (a scenario's resolved
// guests, queues and cores, as text or Graphviz DOT).
#pragma once

#include "app/command.hpp"

namespace vringsim {

/// `vringsim validate`, `trace-info` and `topology`: each adds its command
/// to `app` (app/command.hpp).
Command validate_command(CLI::App& app);
Command trace_info_command(CLI::App& app);
Command topology_command(CLI::App& app);

}  // namespace vringsim

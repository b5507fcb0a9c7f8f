// vringsim run FILES...: runs scenario files and prints a side-by-side table.
#pragma once

#include "app/command.hpp"

namespace vringsim {

/// `vringsim run`: adds the command to `app` (app/command.hpp).
Command run_command(CLI::App& app);

}  // namespace vringsim

// vringsim run FILES...: every scenario loaded and checked first, then run
// --jobs at a time, each in a child process, and a side-by-side table
// printed; with --out each run's files land in OUT/NAME as soon as it and
// every earlier run have finished, and OUT/runs.csv lists them.
#pragma once

#include "app/command.hpp"

namespace vringsim {

/// `vringsim run`: adds the command to `app` (app/command.hpp).
Command run_command(CLI::App& app);

}  // namespace vringsim

// vringsim sweep SPEC --out DIR: a sweep's runs, one process each, --jobs
// at a time, resumable, optionally one shard (--shard K/N) of its points
// (sim/world/sweep_runner.hpp); vringsim merge DIRS... --out DIR: the
// shards of one sweep combined.
#pragma once

#include "app/command.hpp"

namespace vringsim {

/// `vringsim sweep` and `merge`: each adds its command to `app`
/// (app/command.hpp).
Command sweep_command(CLI::App& app);
Command merge_command(CLI::App& app);

}  // namespace vringsim

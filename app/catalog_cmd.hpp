// What the simulator knows, listed: vringsim params [POLICY] (every
// parameter), policies, features, profiles (driver profiles) and presets
// [NAME] (shipped cost presets). None reads a file of the user's.
#pragma once

#include "app/command.hpp"

namespace vringsim {

/// `vringsim params`, `policies`, `features`, `profiles` and `presets`: each
/// adds its command to `app` (app/command.hpp).
Command params_command(CLI::App& app);
Command policies_command(CLI::App& app);
Command features_command(CLI::App& app);
Command profiles_command(CLI::App& app);
Command presets_command(CLI::App& app);

}  // namespace vringsim

// The one symbol the vringsim executable looks up in the engine module
// (app/engine_loader.cpp). Everything else the module needs (the core, the
// plug-ins and their registries) it finds in the executable, which exports it.
#include "sim/world/world.hpp"

extern "C" vringsim::RunResult vringsim_engine_simulate(const vringsim::Scenario* scenario,
                                                        const vringsim::RunOptions* options) {
  return vringsim::simulate(*scenario, *options);
}

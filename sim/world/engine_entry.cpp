// The one symbol the vringsim executable looks up in the engine module
// (app/engine_loader.cpp). Everything else the module needs (the core, the
// plug-ins and their registries) it finds in the executable, which exports it.
#include "sim/world/world.hpp"

// C linkage for dlsym; the result goes through a pointer, as a C function
// cannot return a C++ class (clang warns).
extern "C" void vringsim_engine_simulate(const vringsim::Scenario* scenario, const vringsim::RunOptions* options,
                                         vringsim::RunResult* result) {
  *result = vringsim::simulate(*scenario, *options);
}

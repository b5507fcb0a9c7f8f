// run_scenario() where the engine is linked in (the tests, the benches, the
// fuzz targets): a direct call. The vringsim executable loads it instead
// (app/engine_loader.cpp).
#include "sim/world/world.hpp"

namespace vringsim {

void load_engine() {}

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) { return simulate(scenario, options); }

}  // namespace vringsim

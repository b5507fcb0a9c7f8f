#include "sim/world/world.hpp"

#include "sim/world/books.hpp"
#include "sim/world/run_loop.hpp"
#include "sim/world/world_builder.hpp"

namespace vringsim {

RunResult simulate(const Scenario& scenario, const RunOptions& options) {
  const std::unique_ptr<World> world = WorldBuilder{scenario, options}.build();
  RunLoop{*world}.run();
  return Books{*world}.close();
}

}  // namespace vringsim

#include "sim/world/world.hpp"

#include "sim/core/startup_stamp.hpp"
#include "sim/world/books.hpp"
#include "sim/world/run_loop.hpp"
#include "sim/world/world_builder.hpp"

namespace vringsim {

RunResult simulate(const Scenario& scenario, const RunOptions& options) {
  startup_stamp("building world");
  const std::unique_ptr<World> world = WorldBuilder{scenario, options}.build();
  startup_stamp("world built");
  RunLoop{*world}.run();
  startup_stamp("run done");
  RunResult result = Books{*world}.close();
  startup_stamp("books closed");
  return result;
}

}  // namespace vringsim

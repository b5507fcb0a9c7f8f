// run_scenario() for the vringsim executable: the engine (SimGrid, the
// actors; sim/world/engine_entry.cpp) is a module beside the executable,
// loaded the first time a command simulates. Commands that do not simulate
// (--version, validate, schema, topology, merge...) never load SimGrid.
#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "sim/core/startup_stamp.hpp"
#include "sim/world/world.hpp"

namespace vringsim {

namespace {

using Simulate = void (*)(const Scenario*, const RunOptions*, RunResult*);
Simulate simulate_fn = nullptr;

std::filesystem::path module_path() {
  // The module is installed beside the executable (the build directory).
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the simulation engine: /proc/self/exe: " + ec.message());
  return exe.parent_path() / "libvringsim_engine.so";
}

}  // namespace

void load_engine() {
  if (simulate_fn) return;
  startup_stamp("loading engine");
  const std::string path = module_path().string();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) throw std::runtime_error(std::string("cannot load the simulation engine: ") + ::dlerror());
  void* sym = ::dlsym(handle, "vringsim_engine_simulate");
  if (!sym) throw std::runtime_error(std::string("the simulation engine ") + path + " has no entry point: " + ::dlerror());
  simulate_fn = reinterpret_cast<Simulate>(sym);
  startup_stamp("engine loaded");
}

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  load_engine();
  RunResult result;
  simulate_fn(&scenario, &options, &result);
  return result;
}

}  // namespace vringsim

// A SimGrid engine with one host on the run's nanosecond clock: what the
// queue engine's own tests and benches run a TaskLoop in. (A run builds its
// platform from the topology instead: sim/world/world_builder.cpp.)
#pragma once

#include <xbt/log.h>
#include <simgrid/s4u.hpp>

#include <memory>
#include <string>
#include <vector>

#include "sim/core/sanitizers.hpp"
#include "sim/engine/blocking.hpp"

namespace vringsim {

class BareEngine {
 public:
  /// `name`: the program's name, as SimGrid's argv[0]. SimGrid's own log is
  /// quiet but for critical messages; under ASan, contexts are threads (as
  /// in a run: world_builder.cpp).
  explicit BareEngine(const char* name) : args_{name} {
    xbt_log_control_set("root.thresh:critical");
    if (VRINGSIM_ASAN) args_.emplace_back("--cfg=contexts/factory:thread");
    for (auto& a : args_) argv_.push_back(a.data());
    argv_.push_back(nullptr);
    int argc = static_cast<int>(args_.size());
    engine_ = std::make_unique<simgrid::s4u::Engine>(&argc, argv_.data());
    blocking::use_nanosecond_clock();  // as a run's
    auto* zone = simgrid::s4u::create_full_zone("z");
    host_ = zone->create_host("h", 1e9);
    zone->seal();
  }
  simgrid::s4u::Host* host() const { return host_; }
  void run() { engine_->run(); }
  /// SimGrid's clock, in seconds.
  static double clock() { return simgrid::s4u::Engine::get_clock(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> argv_;
  std::unique_ptr<simgrid::s4u::Engine> engine_;
  simgrid::s4u::Host* host_ = nullptr;
};

}  // namespace vringsim

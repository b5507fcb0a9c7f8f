// Drives a built World through simulated time: starts a device and a driver
// actor per receive queue, a sampler that takes the time series and moves
// the event bus forward, and a controller that ends the run at stop.time_s
// or once a finite source has drained; then brings every metric up to the
// end. An exception in any actor stops them all and is rethrown here.
#pragma once

#include <exception>
#include <functional>
#include <vector>

#include "sim/world/world_builder.hpp"

namespace vringsim {

class RunLoop {
 public:
  explicit RunLoop(World& world) : w_(world) {}
  void run();

 private:
  std::function<void()> guarded(std::function<void()> body);
  void start_queues();
  void start_sampler();
  void start_controller();
  void sample(double t, bool final = false);
  void admit_all(SimTime t);
  void check_liveness(double t);
  void finish();

  World& w_;
  std::exception_ptr failure_;
  std::vector<char> stuck_;            ///< per queue: the liveness check saw it stuck at the last sample
  std::vector<char> waiting_;          ///< per queue: both sides waited for the other at the last sample
  std::vector<size_t> column_source_;  ///< time series: for each column after the first two, its place in a sample
};

}  // namespace vringsim

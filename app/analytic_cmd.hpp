// `vringsim analytic`: the M/M/1/K prediction (sim/core/analytic.hpp) beside
// the simulator's figures for the same scenario.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/command.hpp"
#include "sim/core/analytic.hpp"
#include "sim/core/config.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {

/// What the analytic model needs from a scenario.
struct AnalyticCase {
  double lambda = 0;      ///< frames/s offered
  double mu = 0;          ///< frames/s the host serves
  uint64_t capacity = 0;  ///< K = host.tap_queue_packets + 1
  uint32_t frame_bytes = 0;
  double service_ns = 0;  ///< mean host time per frame
};

/// Reads the case from a resolved scenario. Every assumption the model makes
/// is checked; the ones that fail are listed, each naming its key, in
/// `unmet` (empty when the model applies).
AnalyticCase analytic_case(const Scenario& sc, std::vector<std::string>* unmet);

int cmd_analytic(const std::vector<std::string>& files, const std::vector<std::string>& sets, bool json);

/// `vringsim analytic`: adds the command to `app` (app/command.hpp).
Command analytic_command(CLI::App& app);

}  // namespace vringsim

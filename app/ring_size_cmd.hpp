// vringsim ring-size FILE: how big the receive ring must be. It runs the
// scenario at its largest ring size for the packet rate the ring must carry
// and the descriptors one packet's chain takes, computes the knee below
// which the device starves (sim/core/ring_knee.hpp: rate x notification
// round trip, plus what the refill rule lets drain), then runs the scenario
// at each ring size (one process per run, --jobs at a time) and prints the
// throughput, the device's stalls and the drops beside it, marking the
// simulated knee: the first size within 1% of the best throughput.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/command.hpp"

namespace vringsim {

struct RingSizeArgs {
  std::string file;
  std::vector<std::string> sets;
  std::optional<std::string> sizes;  ///< comma-separated ring sizes; none: powers of two from 8 to 4096
  unsigned jobs = 1;
  std::optional<std::string> csv;    ///< also write the table here
};

int cmd_ring_size(const RingSizeArgs& a);

/// `vringsim ring-size`: adds the command to `app` (app/command.hpp).
Command ring_size_command(CLI::App& app);

}  // namespace vringsim

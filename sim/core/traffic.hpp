// Traffic: a source plug-in yields frames (length, and optionally a trace
// timestamp); the core's wire model (ArrivalProcess) turns them into arrival
// times at the host: line rate, a constant rate or a Poisson process, always
// bounded by the link rate. (Replaying a trace's own timestamps comes with the
// trace sources.) The core names no
// source kind: kinds register themselves (models/traffic/).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sim/core/config.hpp"
#include "sim/core/params.hpp"
#include "sim/core/rng.hpp"

namespace vringsim {

/// Ethernet per-frame overhead on the wire: preamble and start delimiter 8,
/// FCS 4, inter-frame gap 12 (IEEE 802.3). Frame lengths exclude the FCS.
inline constexpr uint32_t kWireOverheadBytes = 24;

struct Frame {
  uint32_t len_bytes = 0;
  std::optional<double> time_s;  ///< the trace's own timestamp, if it has one
};

class TrafficSource {
 public:
  virtual ~TrafficSource() = default;
  /// The next frame, or nothing when the source is exhausted.
  virtual std::optional<Frame> next() = 0;
};

struct TrafficInfo {
  std::string name;
  std::string description;
  /// Declares the kind's parameters; `prefix` is "traffic.<name>.".
  std::function<void(ParamTable&, const std::string& prefix)> declare;
  std::function<std::unique_ptr<TrafficSource>(const Config&, const std::string& prefix, uint64_t seed)> create;
};

/// The wire: when each frame has fully arrived at the host.
class ArrivalProcess {
 public:
  enum class Mode { LineRate, Constant, Poisson };
  static void declare(ParamTable& table);
  ArrivalProcess(const Config& cfg, uint64_t seed);

  /// Arrival time (last bit received) of a frame of `len` bytes.
  double next_arrival(const Frame& frame);

 private:
  Mode mode_;
  double link_bps_;
  double rate_bps_;
  Rng rng_;
  double intended_ = 0.0;   ///< start time the process asks for
  double wire_free_ = 0.0;  ///< when the link finishes the previous frame
};

}  // namespace vringsim

#include "sim/core/traffic.hpp"

#include <algorithm>

namespace vringsim {

std::filesystem::path TrafficContext::path(const std::string& key) const {
  const std::filesystem::path p(cfg.string(key));
  return p.is_absolute() ? p : base_dir / p;
}

void ArrivalProcess::declare(ParamTable& t) {
  t.add(ParamSpec::number("traffic.link_gbps", 10.0, "Gb/s")
            .range(0.001, 1000.0)
            .help("link rate: bounds back-to-back arrivals (frame + 24 bytes of Ethernet overhead)")
            .from("MODEL.md §2: the 2008 measurement used 10 Gb/s Ethernet"));
  t.add(ParamSpec::string("traffic.arrival", "line-rate", {"line-rate", "constant", "poisson", "trace"})
            .help("arrival process: back-to-back at link rate, a constant rate, Poisson at a mean rate, or the "
                  "trace's own timestamps (pcap, csv with time_s)")
            .from("MODEL.md §2: the 2008 setup offers MTU frames at line rate"));
  t.add(ParamSpec::number("traffic.rate_gbps", 10.0, "Gb/s")
            .range(1e-6, 1000.0)
            .help("offered rate on the wire (Ethernet overhead included) for constant and poisson arrivals; "
                  "capped by the link rate")
            .from("default: the 10 Gb/s line rate of the 2008 setup"));
  t.add(ParamSpec::number("traffic.speed", 1.0, "factor")
            .range(1e-6, 1e6)
            .help("with arrival = trace: replay time runs this many times faster than the trace's (2: twice as fast)")
            .from("1: the trace's own timing"));
}

ArrivalProcess::ArrivalProcess(const Config& cfg, uint64_t seed)
    : link_bps_(cfg.number("traffic.link_gbps") * 1e9),
      rate_bps_(cfg.number("traffic.rate_gbps") * 1e9),
      rng_(seed, "arrivals") {
  const std::string m = cfg.string("traffic.arrival");
  mode_ = m == "constant"  ? Mode::Constant
          : m == "poisson" ? Mode::Poisson
          : m == "trace"   ? Mode::Trace
                           : Mode::LineRate;
  speed_ = cfg.number("traffic.speed");
}

double ArrivalProcess::next_arrival(const Frame& frame) {
  const double wire_bits = 8.0 * (frame.len_bytes + kWireOverheadBytes);
  const double serialise = wire_bits / link_bps_;
  double start = wire_free_;
  switch (mode_) {
    case Mode::LineRate: break;
    case Mode::Constant:
      start = std::max(start, intended_);
      intended_ += wire_bits / rate_bps_;
      break;
    case Mode::Poisson:
      intended_ += rng_.exponential(wire_bits / rate_bps_);
      start = std::max(start, intended_);
      break;
    case Mode::Trace:
      // Frames without a timestamp (never from a validated scenario) go back to back.
      if (frame.time_s) start = std::max(start, *frame.time_s / speed_);
      break;
  }
  wire_free_ = start + serialise;
  return wire_free_;
}

}  // namespace vringsim

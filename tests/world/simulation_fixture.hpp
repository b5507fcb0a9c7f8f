// The fixture of the whole-simulation tests: writes scenario documents to a
// temporary directory, loads them, runs each in a child process (SimGrid:
// one engine per process) and reads figures out of the summary.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

namespace vringsim::test_support {

namespace fs = std::filesystem;

/// `costs` with every CPU cost at 0: hand cases where only latencies and
/// the traffic take time.
inline Json zero_costs() {
  Json host, guest;
  for (const char* k : {"per_packet_ns", "per_descriptor_ns", "per_byte_ns", "per_interrupt_ns", "per_kick_ns",
                        "per_segment_ns"})
    host[k] = 0;
  for (const char* k : {"per_packet_ns", "per_descriptor_ns", "per_byte_copy_ns", "per_interrupt_ns", "per_kick_ns",
                        "per_poll_ns", "per_page_alloc_ns", "per_page_free_ns", "per_page_recycle_ns",
                        "per_ewma_update_ns", "per_frag_carve_ns", "per_indirect_table_ns", "per_xdp_ns",
                        "per_byte_ns"})
    guest[k] = 0;
  return {{"host", host}, {"guest", guest}};
}

class Simulation : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vringsim-sim-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Scenario scenario(const Json& doc, const std::vector<std::string>& sets = {}) {
    const auto p = dir_ / fmt::format("s{}.json", n_++);
    std::ofstream(p) << doc.dump(1);
    return load_scenario(p.string(), sets);
  }
  RunResult run(const Scenario& s, bool check = false) {
    RunOptions opt;
    opt.check = check;
    RunOutcome o = run_in_child(s, opt);
    EXPECT_EQ(o.exit_code, 0) << s.config.json().dump();
    return o.result;
  }
  static uint64_t u(const RunResult& r, const char* ptr) {
    return r.summary.at(Json::json_pointer(ptr)).get<uint64_t>();
  }
  static double d(const RunResult& r, const char* ptr) { return r.summary.at(Json::json_pointer(ptr)).get<double>(); }
  /// Runs `doc` with each host burst size; everything but the configuration must be identical.
  Json expect_burst_independent(const Json& doc, std::initializer_list<int> bursts, const std::string& label) {
    Json base;
    for (int burst : bursts) {
      RunResult r = run(scenario(doc, {"host.burst_packets=" + std::to_string(burst)}));
      r.summary.erase("config");
      r.summary.erase("provenance");
      if (base.is_null())
        base = r.summary;
      else
        EXPECT_EQ(r.summary.dump(), base.dump()) << label << " burst " << burst;
    }
    return base;
  }
  /// Conservation, from a count the run's books do not use: the frames the
  /// traffic plug-ins say they put on the wire (traffic.*gro.packets_out,
  /// counted at the source) must all have reached the host, less at most one
  /// per queue read ahead of the end (with several queues the dispatcher may
  /// hold more for the others). A frame lost between the wire and the tap,
  /// or counted twice, fails here; the books' own sum (which the run checks
  /// and exits 3 on) is asserted too.
  static void expect_conservation(const RunResult& r) {
    const uint64_t arrived = u(r, "/packets/arrived");
    EXPECT_EQ(arrived, u(r, "/packets/delivered") + u(r, "/packets/dropped") + u(r, "/packets/in_flight"));
    EXPECT_EQ(u(r, "/packets/dropped"),
              u(r, "/drops/tap_full") + u(r, "/drops/too_large") + u(r, "/drops/device_broken"));
    EXPECT_DOUBLE_EQ(d(r, "/packets/dropped_share"),
                     arrived ? static_cast<double>(u(r, "/packets/dropped")) / static_cast<double>(arrived) : 0.0);
    const Json& t = r.summary.at("traffic");
    uint64_t wire = 0;
    if (t.contains("sources")) {
      for (const auto& [name, src] : t["sources"].items()) wire += src["gro"]["packets_out"].get<uint64_t>();
    } else {
      wire = t["gro"]["packets_out"].get<uint64_t>();
    }
    EXPECT_GE(wire, arrived) << "the host admitted frames no source sent";
    const uint64_t queues = r.summary.contains("topology") ? u(r, "/topology/queues") : 1;
    if (queues == 1) {
      EXPECT_LE(wire - arrived, 1u) << "frames sent never reached the host";
    }
  }

  fs::path dir_;
  int n_ = 0;
};

}  // namespace vringsim::test_support

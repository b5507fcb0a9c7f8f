// Liveness: if frames arrive and buffers are posted, frames are delivered.
// Zero costs are in every cost's documented range; with zero host costs the
// device once took all 256 buffers in one instant, never told the idle guest,
// and waited for a kick that could not come: 0 Gb/s, exit 0.
#include "sim/core/registry.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/policy.hpp"
#include "tests/world/simulation_fixture.hpp"

namespace vringsim {
namespace {

using test_support::Simulation;

const char* kHostCosts[] = {"costs.host.per_packet_ns=0", "costs.host.per_descriptor_ns=0",
                            "costs.host.per_byte_ns=0", "costs.host.per_kick_ns=0", "costs.host.per_interrupt_ns=0"};
const char* kGuestCosts[] = {"costs.guest.per_packet_ns=0",      "costs.guest.per_descriptor_ns=0",
                             "costs.guest.per_byte_copy_ns=0",   "costs.guest.per_interrupt_ns=0",
                             "costs.guest.per_kick_ns=0",        "costs.guest.per_page_alloc_ns=0",
                             "costs.guest.per_page_free_ns=0",   "costs.guest.per_page_recycle_ns=0",
                             "costs.guest.per_poll_ns=0"};

/// Every shipped policy: the registry, less the broken ones other tests in
/// this binary register on purpose (named test-*).
std::vector<std::string> shipped_policies() {
  std::vector<std::string> out;
  for (const std::string& p : Registry<PolicyInfo>::instance().names())
    if (!p.starts_with("test-")) out.push_back(p);
  return out;
}

Json line_rate(const std::string& policy) {
  return Json{{"name", "zero-" + policy},
              {"stop", {{"time_s", 0.01}}},
              {"measure", {{"warmup_s", 0.001}}},
              {"policy", {{"name", policy}}},
              {"ring", {{"size", policy == "larger-ring" ? 1024 : 256}}}};
}

class Liveness : public Simulation {
 protected:
  void expect_delivers(const std::string& policy, const std::vector<std::string>& sets, const char* what) {
    const RunResult r = run(scenario(line_rate(policy), sets));
    expect_conservation(r);
    // A stuck ring delivers at most what was posted before it stuck; one
    // that keeps refilling delivers many rings' worth in 9 measured ms at
    // line rate (the slowest policy, max-buffer, about 770 frames).
    EXPECT_GT(u(r, "/packets/delivered"), 2 * u(r, "/ring/capacity_packets_mtu")) << policy << " with " << what;
    // Every time the device ran dry a kick woke it (a device that never ran
    // dry asked for none: it suppresses kicks whenever it finds buffers).
    EXPECT_GE(u(r, "/notifications/kicks"), u(r, "/host/stalls")) << policy << " with " << what;
  }
};

TEST_F(Liveness, EveryPolicy_ZeroHostCosts_DeliversFrames) {
  for (const std::string& p : shipped_policies())
    expect_delivers(p, {std::begin(kHostCosts), std::end(kHostCosts)}, "zero host costs");
}

TEST_F(Liveness, EveryPolicy_ZeroGuestCosts_DeliversFrames) {
  for (const std::string& p : shipped_policies())
    expect_delivers(p, {std::begin(kGuestCosts), std::end(kGuestCosts)}, "zero guest costs");
}

TEST_F(Liveness, EveryPolicy_AllCostsZero_DeliversFrames) {
  for (const std::string& p : shipped_policies()) {
    std::vector<std::string> sets(std::begin(kHostCosts), std::end(kHostCosts));
    sets.insert(sets.end(), std::begin(kGuestCosts), std::end(kGuestCosts));
    expect_delivers(p, sets, "every cost zero");
  }
}

// The time series ends where the summary does: its last row's cumulative
// counts are the run's (with the TCP-like sender it once ended 54 frames
// short, and a drained trace's last row stopped at the sample before the end).
class TimeSeries : public Simulation {
 protected:
  void expect_last_row_is_the_summary(const std::string& file, const std::vector<std::string>& sets = {}) {
    const RunResult r = run(load_scenario(std::string(VRINGSIM_SOURCE_DIR) + "/" + file, sets));
    ASSERT_FALSE(r.ts_rows.empty()) << file;
    const auto& last = r.ts_rows.back();
    auto col = [&](const char* name) {
      for (size_t i = 0; i < r.ts_columns.size(); ++i)
        if (r.ts_columns[i] == name) return static_cast<uint64_t>(last[i]);
      ADD_FAILURE() << "no column " << name;
      return uint64_t{0};
    };
    EXPECT_EQ(last[0], d(r, "/run/end_s")) << file;
    EXPECT_EQ(col("arrived_packets"), u(r, "/packets/arrived")) << file;
    EXPECT_EQ(col("delivered_packets"), u(r, "/packets/delivered")) << file;
    EXPECT_EQ(col("dropped_packets"), u(r, "/packets/dropped")) << file;
  }
};

TEST_F(TimeSeries, LastRowEqualsTheSummary_Synthetic) {
  expect_last_row_is_the_summary("scenarios/seed-2008/mergeable.json", {"stop.time_s=0.05", "measure.warmup_s=0.01"});
}
TEST_F(TimeSeries, LastRowEqualsTheSummary_TcpSender) {
  expect_last_row_is_the_summary("scenarios/seed-2008-tcp/mergeable.json", {"stop.time_s=0.2"});
}
TEST_F(TimeSeries, LastRowEqualsTheSummary_PcapDrainedBeforeTheEnd) {
  expect_last_row_is_the_summary("scenarios/traffic/pcap-loopback-mergeable.json");
}
TEST_F(TimeSeries, LastRowEqualsTheSummary_Csv) { expect_last_row_is_the_summary("scenarios/traffic/csv-exchange.json"); }
TEST_F(TimeSeries, LastRowEqualsTheSummary_ATopology) {
  expect_last_row_is_the_summary("scenarios/capacity/two-tenants.json", {"stop.time_s=0.03", "measure.warmup_s=0.01"});
}

// Steady state: a backlog still climbing through the measured window is said
// (capacity runs once reported 0 drops at 0.1 s and 24,936 at 0.6 s).
TEST_F(TimeSeries, ABacklogClimbingThroughTheWindowIsNotSteady) {
  // max-buffer absorbs ~1.19 Gb/s of MTU frames on the default costs (no
  // latencies): offered 1.4 Gb/s, the tap (500 frames) fills at ~17,000
  // frames/s, so over 5..25 ms it climbs.
  const Json doc{{"name", "climb"},
                 {"stop", {{"time_s", 0.025}}},
                 {"measure", {{"warmup_s", 0.005}}},
                 {"policy", {{"name", "max-buffer"}}},
                 {"traffic", {{"arrival", "constant"}, {"rate_gbps", 1.4}}}};
  const RunResult climbing = run(scenario(doc));
  EXPECT_EQ(climbing.summary["measure"]["steady"], false);
  EXPECT_GT(d(climbing, "/measure/trend/tap_queue_packets_per_s"), 10000.0);
  EXPECT_NE(climbing.summary["measure"]["steady_problem"].get<std::string>().find("the tap backlog grew"),
            std::string::npos);
  // Once the tap is full it drops what it cannot hold: level, steady.
  const RunResult level = run(scenario(doc, {"stop.time_s=0.3", "measure.warmup_s=0.1"}));
  EXPECT_EQ(level.summary["measure"]["steady"], true);
  EXPECT_GT(u(level, "/drops/tap_full"), 0u);
  // Below what the guest absorbs nothing builds up: steady.
  const RunResult light = run(scenario(doc, {"traffic.rate_gbps=0.5"}));
  EXPECT_EQ(light.summary["measure"]["steady"], true);
  // Too few samples in the window to judge: said as null, not as steady.
  const RunResult brief = run(scenario(doc, {"stop.time_s=0.008", "measure.warmup_s=0.002"}));
  EXPECT_TRUE(brief.summary["measure"]["steady"].is_null());
}

}  // namespace
}  // namespace vringsim

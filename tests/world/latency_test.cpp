// Notification and wake-up latencies (latency.*, host.halt_poll_ns): time
// that is not CPU time, on the timeline of the side that waits. The cases
// are built so that the answers follow by hand.
#include "tests/world/simulation_fixture.hpp"

namespace vringsim {
namespace {

using test_support::Simulation;

/// Constant MTU frames every 10 us ((1514 + 24) * 8 bits at 1.2304 Gb/s),
/// zero CPU costs, one buffer per frame (mergeable), a refill after every
/// buffer (budget 1, today's rule: num_free > 0), a tap that holds one
/// frame. Only latencies take time.
Json hand_case(uint32_t ring, double interrupt_ns, double kick_ns = 0) {
  return {{"name", "hand"},
          {"stop", {{"time_s", 0.05}}},
          {"measure", {{"warmup_s", 0.01}}},
          {"ring", {{"size", ring}}},
          {"policy", {{"name", "mergeable"}}},
          {"virtio", {{"features", {"MRG_RXBUF"}}}},
          {"traffic",
           {{"kind", "synthetic"},
            {"arrival", "constant"},
            {"rate_gbps", 1.2304},
            {"synthetic", {{"length", "fixed"}, {"len_bytes", 1514}}}}},
          {"guest", {{"napi_budget", 1}, {"refill_rule", "today"}}},
          {"host", {{"tap_queue_packets", 1}}},
          {"latency", {{"interrupt_ns", interrupt_ns}, {"kick_ns", kick_ns}}},
          {"costs", test_support::zero_costs()}};
}

// The guest sees a used buffer L after the device wrote it, and refills it
// then: the device uses the k buffers of the ring at one a gap (g = 10 us)
// and starves exactly when they last less than L, k * g < L. Starving, it
// waits for each refill and its tap keeps one more frame: about k + 1 frames
// per interrupt latency, the rest dropped.
TEST_F(Simulation, AnInterruptLatencyStarvesTheDeviceExactlyWhenTheRingHoldsLessThanRateTimesLatency) {
  const RunResult below = run(scenario(hand_case(8, 79'000)));  // k * g = 80 us > L
  EXPECT_EQ(u(below, "/packets/arrived"), 5000u);
  EXPECT_EQ(u(below, "/host/stalls"), 0u);
  EXPECT_EQ(u(below, "/packets/dropped"), 0u);
  EXPECT_DOUBLE_EQ(d(below, "/throughput/delivered_pps"), 100000.0);

  const RunResult above = run(scenario(hand_case(8, 81'000)));  // k * g = 80 us < L
  EXPECT_GT(u(above, "/host/stalls"), 300u);       // about one per interrupt (81-90 us apart)
  EXPECT_EQ(u(above, "/packets/dropped"), 0u);     // the one frame it waits with fits the tap
  EXPECT_GT(d(above, "/host/stall_time_s"), 0.0);

  const RunResult ring16 = run(scenario(hand_case(16, 81'000)));  // twice the ring: no starving
  EXPECT_EQ(u(ring16, "/host/stalls"), 0u);

  // Well past the knee: the device gets k buffers per cycle of L plus up to
  // two gaps (the poll, then the next arrival that interrupts), and its tap
  // one more frame: k / (L + 2g) <= delivered rate <= (k + 1) / L.
  const RunResult starved = run(scenario(hand_case(8, 100'000)));
  const double pps = d(starved, "/throughput/delivered_pps");
  EXPECT_GE(pps, 8 / 120e-6);
  EXPECT_LE(pps, 9 / 100e-6);
  EXPECT_GT(u(starved, "/packets/dropped"), 0u);
  expect_conservation(starved);
  // Latencies are not CPU time: nothing was charged.
  EXPECT_DOUBLE_EQ(d(starved, "/cpu/guest_utilization"), 0.0);
  EXPECT_DOUBLE_EQ(d(starved, "/cpu/host_utilization"), 0.0);
}

// A starved device sees the kick that ends its wait latency.kick_ns late:
// each cycle grows by it, and the stall lasts at least that long. A ring big
// enough never waits for a kick, and then the kick latency changes nothing but
// the computed knee.
TEST_F(Simulation, AKickLatencyLengthensEveryStarvedCycleAndNothingElse) {
  const RunResult starved = run(scenario(hand_case(8, 100'000, 50'000)));
  const double window = d(starved, "/measure/window_s");
  const double stalls = static_cast<double>(u(starved, "/host/stalls"));
  // A cycle: L + kick latency + at most two gaps.
  EXPECT_GE(stalls, window / 170e-6);
  EXPECT_LE(stalls, window / 150e-6 + 1);
  EXPECT_GE(d(starved, "/host/stall_time_s"), stalls * 50e-6);
  const double pps = d(starved, "/throughput/delivered_pps");
  EXPECT_GE(pps, 8 / 170e-6);
  EXPECT_LE(pps, 9 / 150e-6);
  expect_conservation(starved);

  RunResult fast = run(scenario(hand_case(16, 81'000, 0)));
  RunResult slow_kick = run(scenario(hand_case(16, 81'000, 50'000)));
  // The computed knee counts the kick in the round trip: rate x 50 us more
  // (ring_knee; today's rule with budget 1 adds nothing to it).
  EXPECT_NEAR(d(slow_kick, "/ring/knee_slots") - d(fast, "/ring/knee_slots"),
              d(fast, "/throughput/delivered_pps") * 50e-6, 1e-9);
  for (RunResult* r : {&fast, &slow_kick}) {
    r->summary.erase("config");
    r->summary.erase("provenance");
    r->summary["ring"].erase("knee_slots");
    r->summary["ring"].erase("knee_entries");
  }
  EXPECT_EQ(fast.summary.dump(), slow_kick.summary.dump());
}

/// One MTU frame every millisecond, default costs: every interrupt finds the
/// guest idle for most of a millisecond.
Json sparse(double poll_ns, double interrupt_ns, double wakeup_ns, double backend_ns = 0) {
  return {{"name", "sparse"},
          {"stop", {{"time_s", 0.2}}},
          {"measure", {{"warmup_s", 0.1}}},
          {"traffic",
           {{"kind", "synthetic"},
            {"arrival", "constant"},
            {"rate_gbps", 0.012304},
            {"synthetic", {{"length", "fixed"}, {"len_bytes", 1514}}}}},
          {"host", {{"halt_poll_ns", poll_ns}}},
          {"latency", {{"interrupt_ns", interrupt_ns}, {"vcpu_wakeup_ns", wakeup_ns}, {"backend_wakeup_ns", backend_ns}}}};
}

// An idle vCPU polls host.halt_poll_ns, then halts; an interrupt to a halted
// vCPU pays latency.vcpu_wakeup_ns on top of latency.interrupt_ns, one to a
// polling vCPU does not. Each frame here waits for exactly those, so every
// latency percentile moves by exactly their sum (the histogram is exact to
// the nanosecond below 2048 ns, and within 1/2048 above).
TEST_F(Simulation, AHaltedVcpuPaysItsWakeUpAndAPollingOneDoesNot) {
  const RunResult base = run(scenario(sparse(200'000, 0, 0)));
  EXPECT_EQ(u(base, "/packets/arrived"), 200u);
  // Every interrupt found the vCPU idle for nearly 1 ms: 100 halts in the
  // window, each after 200 us of polling.
  EXPECT_EQ(u(base, "/guest/halts"), 100u);
  EXPECT_EQ(u(base, "/notifications/interrupts"), 100u);
  EXPECT_DOUBLE_EQ(d(base, "/guest/wakeup_s"), 0.0);
  const double halted = d(base, "/guest/halted_s");
  EXPECT_GT(halted, 100 * 0.7e-3);
  EXPECT_LT(halted, 100 * 0.8e-3);

  const RunResult halted_run = run(scenario(sparse(200'000, 3'000, 40'000)));
  EXPECT_EQ(u(halted_run, "/guest/halts"), 100u);
  EXPECT_NEAR(d(halted_run, "/guest/wakeup_s"), 100 * 40e-6, 1e-12);
  EXPECT_NEAR(d(halted_run, "/latency_us/p50") - d(base, "/latency_us/p50"), 43.0, 43.0 / 2048 + 0.002);
  EXPECT_NEAR(d(halted_run, "/latency_us/max") - d(base, "/latency_us/max"), 43.0, 0.0011);  // to the nanosecond the histogram rounds to
  // Not CPU time: the guest's and host's utilisation stay put.
  EXPECT_DOUBLE_EQ(d(halted_run, "/cpu/guest_utilization"), d(base, "/cpu/guest_utilization"));
  EXPECT_DOUBLE_EQ(d(halted_run, "/cpu/host_utilization"), d(base, "/cpu/host_utilization"));

  // Polling for 2 ms covers every idle period: no halt, no wake-up paid.
  const RunResult polling = run(scenario(sparse(2'000'000, 3'000, 40'000)));
  EXPECT_EQ(u(polling, "/guest/halts"), 0u);
  EXPECT_DOUBLE_EQ(d(polling, "/guest/halted_s"), 0.0);
  EXPECT_NEAR(d(polling, "/latency_us/max") - d(base, "/latency_us/max"), 3.0, 0.0011);
}

// The backend thread sleeps on an empty tap; the frame that wakes it waits
// latency.backend_wakeup_ns before it is served.
TEST_F(Simulation, ASleepingBackendServesAFrameItsWakeUpLate) {
  const RunResult base = run(scenario(sparse(200'000, 0, 0)));
  const RunResult late = run(scenario(sparse(200'000, 0, 0, 25'000)));
  EXPECT_EQ(u(late, "/packets/delivered"), u(base, "/packets/delivered"));
  EXPECT_NEAR(d(late, "/latency_us/max") - d(base, "/latency_us/max"), 25.0, 0.0011);
  EXPECT_NEAR(d(late, "/latency_us/p50") - d(base, "/latency_us/p50"), 25.0, 25.0 / 2048 + 0.002);
}

}  // namespace
}  // namespace vringsim

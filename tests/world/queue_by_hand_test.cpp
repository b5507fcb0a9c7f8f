// One receive queue, its device and driver, followed event by event against
// times worked out by hand on the run's integer clock (docs/model.md §7):
// every instant below is a sum of the scenario's whole-nanosecond costs and
// latencies from a frame's arrival, so each must come out to the
// nanosecond. A change to the device's or the driver's steps (handle_rx,
// virtnet_poll, try_fill_recv) or to the clock that moves any of them by
// 1 ns fails here.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/world/simulation_fixture.hpp"

namespace vringsim {
namespace {

using test_support::Simulation;
using test_support::zero_costs;

/// The trace's rows of `events` as "event packet ns", in file order.
std::vector<std::string> rows_of(const std::string& path, const std::vector<std::string>& events) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (f.size() < 4) continue;
    for (const auto& e : events)
      if (f[2] == e) out.push_back(fmt::format("{} {} {}", e, f[3], std::llround(std::stod(f[0]) * 1e9)));
  }
  return out;
}

TEST_F(Simulation, OneQueueFollowedEventByEventAgainstTimesWorkedOutByHand) {
  // Three MTU frames 10 us apart on a 10 Gb/s wire: each arrives with its
  // last bit, 12,304 bits after it began, 1,230.4 ns: the source's date
  // enters the clock rounded up, 1,231 ns (+ 10,000 ns a frame). QEMU's
  // path (host.backend qemu) publishes each frame as it is written. With
  // host.per_packet_ns 500 and guest.per_packet_ns 300, every other cost and
  // latency 0 but latency.interrupt_ns 1000, each frame k (a = 1,231 +
  // 10,000 k) is:
  //   arrived, taken   a           the backend was idle and woke at once
  //   used, interrupt  a + 500     written, published, and the guest's
  //                                interrupts were enabled (it sleeps)
  //   delivered        a + 1,800   the handler at a + 500 + 1,000 polls,
  //                                and the frame costs 300 in the poll
  // and nothing else happens between frames: 8 chains posted at 0 are
  // enough (the driver refills only above half the ring free).
  Json costs = zero_costs();
  costs["host"]["per_packet_ns"] = 500;
  costs["guest"]["per_packet_ns"] = 300;
  const Json doc = {
      {"name", "by-hand"},
      {"stop", {{"time_s", 0.0001}, {"packets", 3}}},
      {"measure", {{"warmup_s", 0}}},
      {"ring", {{"size", 8}}},
      {"policy", {{"name", "mergeable"}}},
      {"virtio", {{"features", {"MRG_RXBUF"}}}},
      {"host", {{"backend", "qemu"}}},
      {"traffic",
       {{"kind", "synthetic"},
        {"arrival", "constant"},
        {"link_gbps", 10},
        {"rate_gbps", 1.2304},
        {"synthetic", {{"length", "fixed"}, {"len_bytes", 1514}}}}},
      {"latency", {{"interrupt_ns", 1000}, {"kick_ns", 0}, {"backend_wakeup_ns", 0}, {"vcpu_wakeup_ns", 0}}},
      {"costs", costs}};
  RunOptions opt;
  opt.trace_path = (dir_ / "by-hand.csv").string();
  opt.trace_format = "csv";
  opt.trace_limit = 1000000;
  const RunOutcome o = run_in_child(scenario(doc), opt);
  ASSERT_EQ(o.exit_code, 0);
  std::vector<std::string> want;
  for (int k = 0; k < 3; ++k) {
    const int64_t a = 1231 + 10000 * k;
    for (const auto& [event, at] : std::vector<std::pair<const char*, int64_t>>{
             {"arrived", a}, {"taken", a}, {"used", a + 500}, {"interrupt", 0}, {"delivered", a + 1800}})
      want.push_back(fmt::format("{} {} {}", event, std::string(event) == "interrupt" ? 0 : k,
                                 std::string(event) == "interrupt" ? a + 500 : at));
  }
  EXPECT_EQ(rows_of(opt.trace_path, {"arrived", "taken", "used", "interrupt", "delivered"}), want);
  // The run ends when the last frame is delivered (the source drained),
  // and each side's CPU is, to the nanosecond, 3 x 500 and 3 x 300.
  const double end_ns = d(o.result, "/run/end_s") * 1e9;
  EXPECT_EQ(std::llround(end_ns), 21231 + 1800);
  EXPECT_EQ(std::llround(d(o.result, "/cpu/host_utilization") * end_ns), 1500);
  EXPECT_EQ(std::llround(d(o.result, "/cpu/guest_utilization") * end_ns), 900);
  EXPECT_EQ(u(o.result, "/packets/delivered"), 3u);
  EXPECT_EQ(u(o.result, "/notifications/interrupts"), 3u);
}

}  // namespace
}  // namespace vringsim

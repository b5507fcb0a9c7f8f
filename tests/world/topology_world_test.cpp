// Many guests on one host: topology, multiqueue, shared cores (issue 7).
// Whole simulations, one child process each.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "tests/models/capture_fixtures.hpp"
#include "tests/world/simulation_fixture.hpp"

namespace vringsim {
namespace {

using Simulation = test_support::Simulation;

Json topology_doc(const Json& topology) {
  Json doc = Json::parse(R"({
    "name": "topo", "seed": 11,
    "stop": {"time_s": 0.2}, "measure": {"warmup_s": 0.05},
    "ring": {"size": 256}, "policy": {"name": "mergeable"},
    "traffic": {"kind": "synthetic", "link_gbps": 40, "arrival": "poisson", "rate_gbps": 6,
                "synthetic": {"length": "imix", "flows": 4096}},
    "host": {"tap_queue_packets": 64}
  })");
  if (!topology.is_null()) doc["topology"] = topology;
  return doc;
}

TEST_F(Simulation, TopologyTotalsAreTheSumsOverGuestsAndQueues) {
  const RunResult r = run(scenario(topology_doc(Json::parse(
      R"({"cores": {"host": {"count": 2}}, "guests": {"vm": {"count": 3, "queues": 2}, "big": {"queues": 4, "vcpus": 2}}})"))));
  const Json& s = r.summary;
  ASSERT_FALSE(s.contains("guests")) << "per-guest figures go to guests.csv, not summary.json";
  ASSERT_EQ(r.guests.size(), 4u);
  EXPECT_EQ(s["topology"]["queues"], 10);
  EXPECT_GT(s["drops"]["tap_full"].get<uint64_t>(), 0u) << "the shared cores should overflow some taps";
  for (const char* what : {"packets", "bytes"})
    for (const char* k : {"arrived", "delivered", "dropped", "in_flight"}) {
      uint64_t over_guests = 0, over_queues = 0;
      for (const auto& [name, g] : r.guests.items()) {
        over_guests += g[what][k].get<uint64_t>();
        uint64_t in_guest = 0;
        for (const auto& [q, qj] : g["queues"].items()) in_guest += qj[what][k].get<uint64_t>();
        EXPECT_EQ(in_guest, g[what][k].get<uint64_t>()) << name << " " << what << "." << k;
        over_queues += in_guest;
      }
      EXPECT_EQ(over_guests, s[what][k].get<uint64_t>()) << what << "." << k;
      EXPECT_EQ(over_queues, s[what][k].get<uint64_t>()) << what << "." << k;
    }
  uint64_t tap_full = 0, stalls = 0;
  double pps = 0, peak_sum = 0;
  for (const auto& [name, g] : r.guests.items()) {
    // Conservation per guest and per queue.
    EXPECT_EQ(g["packets"]["arrived"].get<uint64_t>(), g["packets"]["delivered"].get<uint64_t>() +
                                                           g["packets"]["dropped"].get<uint64_t>() +
                                                           g["packets"]["in_flight"].get<uint64_t>());
    for (const auto& [q, qj] : g["queues"].items()) {
      EXPECT_EQ(qj["packets"]["arrived"].get<uint64_t>(), qj["packets"]["delivered"].get<uint64_t>() +
                                                              qj["packets"]["dropped"].get<uint64_t>() +
                                                              qj["packets"]["in_flight"].get<uint64_t>());
      EXPECT_GT(qj["packets"]["delivered"].get<uint64_t>(), 0u) << name << "/" << q << ": RSS left a queue idle";
      stalls += qj["host"]["stalls"].get<uint64_t>();
    }
    tap_full += g["drops"]["tap_full"].get<uint64_t>();
    pps += g["throughput"]["delivered_pps"].get<double>();
    peak_sum += static_cast<double>(g["memory"]["posted_bytes_peak"].get<uint64_t>());
  }
  EXPECT_EQ(tap_full, s["drops"]["tap_full"].get<uint64_t>());
  EXPECT_EQ(stalls, s["host"]["stalls"].get<uint64_t>());
  EXPECT_NEAR(pps, d(r, "/throughput/delivered_pps"), 1e-6 * pps);
  // The host-wide peak of posted memory is at most the sum of the guests' peaks.
  EXPECT_LE(d(r, "/memory/posted_bytes_peak"), peak_sum);
  // Each ring pins whole pages: 10,244 bytes of 2008 layout on 3 pages.
  EXPECT_EQ(u(r, "/ring/pinned_bytes"), 12288u);
  EXPECT_EQ(u(r, "/memory/pinned_bytes_total"), 10 * u(r, "/ring/pinned_bytes") + u(r, "/memory/posted_bytes_peak"));
  EXPECT_EQ(u(r, "/memory/ring_pinned_bytes_full"), 10 * (u(r, "/ring/pinned_bytes") + 256 * 4096));
  const double jain = d(r, "/fairness/jain_throughput");
  EXPECT_GT(jain, 0.25);
  EXPECT_LE(jain, 1.0);
}

TEST_F(Simulation, TwoBackendsSharingOneCoreEachGetAboutHalf) {
  // Host-bound: 20 us of host CPU per frame, offered at 10 Gb/s line rate.
  Json doc = topology_doc(Json::parse(R"({"cores": {"host": {"count": 1}}, "guests": {"vm": {"count": 2}}})"));
  doc["traffic"]["arrival"] = "line-rate";
  doc["traffic"]["link_gbps"] = 10;
  doc["costs"]["host"]["per_packet_ns"] = 20000;
  doc["host"]["tap_queue_packets"] = 500;
  const RunResult shared = run(scenario(doc));
  const RunResult own = run(scenario(doc, {"topology.cores.host.count=2"}));
  for (const char* g : {"vm-0", "vm-1"}) {
    const double alone = own.guests[g]["throughput"]["delivered_pps"].get<double>();
    const double half = shared.guests[g]["throughput"]["delivered_pps"].get<double>();
    EXPECT_NEAR(half / alone, 0.5, 0.03) << g << ": " << half << " against " << alone;
    EXPECT_NEAR(shared.guests[g]["cpu"]["host_utilization"].get<double>(), 0.5, 0.03) << g;
    EXPECT_NEAR(own.guests[g]["cpu"]["host_utilization"].get<double>(), 1.0, 0.01) << g;
  }
  EXPECT_NEAR(d(shared, "/cpu/host_utilization"), 1.0, 0.01);
  EXPECT_GT(u(shared, "/drops/tap_full"), u(own, "/drops/tap_full"));  // the starved backends fall behind
  EXPECT_NEAR(d(shared, "/fairness/jain_throughput"), 1.0, 1e-3);
}

TEST_F(Simulation, QueuesSharingOneVcpuTakeTurns) {
  // Guest-bound: 40 us of guest CPU per packet; two queues on one vCPU or two.
  Json doc = topology_doc(Json::parse(R"({"cores": {"host": {"count": 2}}, "guests": {"vm": {"queues": 2, "vcpus": 1}}})"));
  doc["costs"]["guest"]["per_packet_ns"] = 40000;
  const RunResult one = run(scenario(doc));
  const RunResult two = run(scenario(doc, {"topology.guests.vm.vcpus=2"}));
  EXPECT_NEAR(d(one, "/throughput/delivered_pps") / d(two, "/throughput/delivered_pps"), 0.5, 0.03);
  EXPECT_NEAR(d(one, "/cpu/guest_utilization"), 1.0, 0.02);
}

TEST_F(Simulation, OneGuestWithOneQueueIsExactlyTheRunWithoutTopology) {
  const Json plain = topology_doc(Json());
  const RunResult without = run(scenario(plain));
  const RunResult with = run(scenario(topology_doc(Json::parse(R"({"guests": {"guest": {}}})"))));
  Json a = without.summary, b = with.summary;
  // The breakdown a topology adds: one guest, one queue, equal to the totals.
  const Json guest = with.guests["guest"];
  for (const char* k : {"/packets", "/bytes", "/drops", "/throughput", "/latency_us", "/memory/posted_bytes_peak",
                        "/memory/pinned_bytes_total", "/notifications", "/host/stalls", "/host/stall_time_s", "/cpu",
                        "/ring/empty_fraction", "/buffers_per_packet"}) {
    const Json::json_pointer p(k);
    EXPECT_EQ(guest.at(p), a.at(p)) << k;
    EXPECT_EQ(guest["queues"]["0"].at(p), a.at(p)) << k;
  }
  EXPECT_EQ(b["fairness"]["jain_throughput"], 1.0);
  for (Json* s : {&a, &b})
    for (const char* k : {"config", "provenance", "per_guest", "fairness", "topology"}) s->erase(k);
  EXPECT_TRUE(a == b) << "the totals differ";
  EXPECT_EQ(without.ts_rows, with.ts_rows);
  EXPECT_EQ(without.ts_columns, with.ts_columns);
}

TEST_F(Simulation, ManyQueuesRunTheSameTwiceAndCheckedEventByEvent) {
  Json doc = topology_doc(Json::parse(R"({"cores": {"host": {"count": 1}}, "guests": {"vm": {"count": 2, "queues": 2}}})"));
  doc["ring"]["size"] = 16;
  doc["stop"]["time_s"] = 0.015;
  doc["measure"]["warmup_s"] = 0.005;
  RunResult a = run(scenario(doc), true);
  RunResult b = run(scenario(doc), true);
  EXPECT_GT(u(a, "/check/events_checked"), 10000u);
  a.summary.erase("provenance");  // names the file
  b.summary.erase("provenance");
  EXPECT_TRUE(a.summary == b.summary) << "two runs of one scenario differ";
  EXPECT_TRUE(a.guests == b.guests) << "two runs of one scenario differ guest by guest";
  EXPECT_EQ(a.ts_rows, b.ts_rows);
}

TEST_F(Simulation, SourcesAreMergedAndEachKeepsItsOwnTraffic) {
  Json doc = topology_doc(Json::parse(R"({
    "sources": {"fast": {"traffic": {"rate_gbps": 3}}, "slow": {"traffic": {"rate_gbps": 1, "synthetic": {"length": "fixed", "len_bytes": 64}}}},
    "bridges": {"a": {"from": ["fast"]}, "b": {"from": ["slow"]}},
    "guests": {"on-a": {"bridge": "a", "queues": 2}, "on-b": {"bridge": "b"}}})"));
  doc["host"]["tap_queue_packets"] = 500;
  const RunResult r = run(scenario(doc));
  const Json& g = r.guests;
  // rate_gbps counts wire bits (frame + 24 bytes); offered_gbps frame bits.
  const double a_mean = g["on-a"]["bytes"]["arrived"].get<double>() / g["on-a"]["packets"]["arrived"].get<double>();
  EXPECT_NEAR(g["on-a"]["throughput"]["offered_gbps"].get<double>(), 3.0 * a_mean / (a_mean + 24), 0.1);
  EXPECT_NEAR(g["on-b"]["throughput"]["offered_gbps"].get<double>(), 1.0 * 64 / 88, 0.03);
  // Only 64-byte frames reach on-b: one buffer each, 64 bytes.
  EXPECT_NEAR(g["on-b"]["bytes"]["arrived"].get<double>() / g["on-b"]["packets"]["arrived"].get<double>(), 64.0, 1e-9);
  EXPECT_NEAR(d(r, "/throughput/offered_gbps"),
              g["on-a"]["throughput"]["offered_gbps"].get<double>() + g["on-b"]["throughput"]["offered_gbps"].get<double>(),
              1e-9);
}

TEST_F(Simulation, ACapturesFramesAreSpreadByTheirFiveTupleOneFlowOneQueue) {
  // 6 TCP flows (ports 1000..1005), 40 frames each, interleaved; 16 queues.
  std::vector<fixtures::Pkt> pkts;
  for (uint32_t i = 0; i < 240; ++i)
    pkts.push_back(fixtures::tcp_frame(1'700'000'000'000'000'000ull + i * 50'000ull, 1000 + i % 6, 1460));
  fixtures::write_file(dir_ / "flows.pcap", fixtures::pcap_file(pkts, false, true));
  const Json doc = {{"name", "rss"},
                    {"stop", {{"time_s", 0.05}}},
                    {"measure", {{"warmup_s", 0.0}}},
                    {"traffic", {{"kind", "pcap"}, {"arrival", "trace"}, {"pcap", {{"file", "flows.pcap"}}}}},
                    {"topology", {{"guests", {{"vm", {{"count", 2}, {"queues", 8}}}}}}}};
  const RunResult r = run(scenario(doc));
  EXPECT_EQ(u(r, "/packets/arrived"), 240u);
  int busy = 0;
  for (const auto& [g, gj] : r.guests.items())
    for (const auto& [q, qj] : gj["queues"].items()) {
      const uint64_t n = qj["packets"]["arrived"].get<uint64_t>();
      EXPECT_EQ(n % 40, 0u) << g << "/" << q << ": a flow was split across queues";
      busy += n > 0;
    }
  EXPECT_GE(busy, 3) << "six flows should reach several of the 16 queues";
  EXPECT_LE(busy, 6);
}

TEST_F(Simulation, StopPacketsCountsFramesOverEveryQueueAndTheRunDrains) {
  Json doc = topology_doc(Json::parse(R"({"cores": {"host": {"count": 4}}, "guests": {"vm": {"count": 4, "queues": 2}}})"));
  doc["stop"]["packets"] = 3000;
  doc["host"]["tap_queue_packets"] = 500;
  const RunResult r = run(scenario(doc));
  EXPECT_EQ(u(r, "/packets/arrived"), 3000u);
  EXPECT_EQ(u(r, "/packets/in_flight"), 0u);
  EXPECT_LT(d(r, "/run/end_s"), 0.2) << "every queue's source ran dry: the run should end early";
}

}  // namespace
}  // namespace vringsim

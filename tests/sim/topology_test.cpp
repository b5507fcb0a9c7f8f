// The topology section: one test per validation rule, the resolved graph,
// and routing by flow.
#include "sim/core/topology.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/core/errors.hpp"

namespace vringsim {
namespace {

/// The message parse_topology gives (after "f.json: "), or "" if it parses.
std::string error_of(const char* text) {
  try {
    parse_topology(Json::parse(text), "f.json");
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("f.json: /topology", 0), 0u) << m;
    return m.substr(8);
  }
  return "";
}

TEST(Topology, NoSectionIsOneGuestWithOneQueue) {
  const Topology t = parse_topology(Json(), "f.json");
  EXPECT_FALSE(t.declared);
  ASSERT_EQ(t.guests.size(), 1u);
  EXPECT_EQ(t.total_queues(), 1u);
  EXPECT_EQ(t.cores.at(0).count, 1u);
  EXPECT_EQ(t.route(0, 12345), 0u);
}

TEST(Topology, PortsAreInNameOrderWhateverOrderTheyComeIn) {
  // Entry "a" of two guests comes before entry "a-", whose name sorts first;
  // bridge "z" is fed by bridge "a" before the guests on "a" are added.
  const Topology t = parse_topology(Json::parse(R"({"bridges": {"a": {}, "z": {"from": ["a"]}},
      "guests": {"a": {"count": 2, "bridge": "a"}, "a-": {"bridge": "a"}, "q": {"bridge": "z"}}})"),
                                    "f.json");
  std::vector<std::string> names;
  for (const Topology::Port& p : t.bridge_ports.at(0))
    names.push_back(p.kind == Topology::Kind::Bridge ? t.bridges[p.index].name : t.guests[p.index].name);
  EXPECT_EQ(names, (std::vector<std::string>{"a-", "a-0", "a-1", "z"}));
}

TEST(Topology, GuestGroupsExpandWithPaddedNamesAndConsecutiveQueues) {
  const Topology t = parse_topology(
      Json::parse(R"({"cores": {"host": {"count": 4}}, "guests": {"vm": {"count": 12, "queues": 4, "vcpus": 2}}})"),
      "f.json");
  ASSERT_EQ(t.guests.size(), 12u);
  EXPECT_EQ(t.guests[0].name, "vm-00");
  EXPECT_EQ(t.guests[11].name, "vm-11");
  EXPECT_EQ(t.guests[11].first_queue, 44u);
  EXPECT_EQ(t.total_queues(), 48u);
  EXPECT_EQ(t.queue_owner(45), (std::pair<uint32_t, uint32_t>{11, 1}));
  EXPECT_EQ(t.queue_owner(0), (std::pair<uint32_t, uint32_t>{0, 0}));
  EXPECT_EQ(t.guests[3].vcpus, 2u);
  // vCPUs default to one per queue.
  EXPECT_EQ(parse_topology(Json::parse(R"({"guests": {"vm": {"queues": 4}}})"), "f").guests[0].vcpus, 4u);
}

TEST(Topology, UnknownKeysSuggestTheNearest) {
  EXPECT_EQ(error_of(R"({"guest": {}})"), "/topology/guest: unknown key (did you mean guests?)");
  EXPECT_EQ(error_of(R"({"guests": {"vm": {"queue": 2}}})"),
            "/topology/guests/vm/queue: unknown key (did you mean queues?)");
}

TEST(Topology, NamesMustBeUsableAsSummaryKeys) {
  EXPECT_EQ(error_of(R"({"guests": {"vm.1": {}}})"),
            "/topology/guests/vm.1: \"vm.1\" is not a valid name (1 to 64 of A-Z a-z 0-9 _ -: names become summary "
            "keys)");
}

TEST(Topology, NamesAreUniqueAcrossKinds) {
  // A bridge named like an expanded guest.
  EXPECT_EQ(error_of(R"({"bridges": {"vm-1": {}}, "guests": {"vm": {"count": 2}}})"),
            "/topology/guests/vm: name \"vm-1\" is already used by /topology/bridges/vm-1");
  // A guest group whose expansion meets another group.
  EXPECT_EQ(error_of(R"({"guests": {"a": {"count": 2}, "a-1": {}}})"),
            "/topology/guests/a-1: name \"a-1\" is already used by /topology/guests/a");
}

TEST(Topology, ReferencesMustExist) {
  EXPECT_EQ(error_of(R"({"bridges": {"br0": {"from": ["nic", "eth9"]}}})"),
            "/topology/bridges/br0/from/1: bridge br0 takes frames from \"eth9\", which is no source or bridge");
  EXPECT_EQ(error_of(R"({"guests": {"vm": {"bridge": "br9"}}})"), "/topology/guests/vm/bridge: guest vm: no bridge named \"br9\"");
  EXPECT_EQ(error_of(R"({"guests": {"vm": {"backend": "qemu"}}})"),
            "/topology/guests/vm/backend: guest vm: no backend named \"qemu\"");
  // With two bridges a guest must say which.
  EXPECT_EQ(error_of(R"({"bridges": {"a": {}, "b": {}}, "guests": {"vm": {}}})"),
            "/topology/guests/vm/bridge: missing: there are 2 bridges, name one");
}

TEST(Topology, EveryBackendIsPinnedToAnExistingCoreGroup) {
  EXPECT_EQ(error_of(R"({"cores": {"host": {"count": 2}}, "backends": {"vhost": {"cores": "numa1"}}})"),
            "/topology/backends/vhost/cores: backend vhost is pinned to \"numa1\", which is no core group");
  EXPECT_EQ(error_of(R"({"cores": {"a": {}, "b": {}}, "backends": {"vhost": {}}})"),
            "/topology/backends/vhost/cores: missing: there are 2 core groups, name one");
  EXPECT_EQ(error_of(R"({"cores": {"host": {"count": 0}}})"), "/topology/cores/host/count: 0 is out of range [1, 4096]");
}

TEST(Topology, TheDataPathHasNoCycle) {
  EXPECT_EQ(error_of(R"({"bridges": {"a": {"from": ["nic", "b"]}, "b": {"from": ["a"]}},
                         "guests": {"vm": {"bridge": "a"}}})"),
            "/topology/bridges/a: the data path has a cycle: a -> b -> a");
}

TEST(Topology, EveryQueueIsReachableFromASource) {
  EXPECT_EQ(error_of(R"({"bridges": {"lan": {}, "island": {"from": []}},
                         "guests": {"vm": {"bridge": "lan"}, "lost": {"bridge": "island", "queues": 2}}})"),
            "/topology/guests/lost: queue 0 of guest lost is not reachable from any source (through bridge island)");
}

TEST(Topology, FramesAlwaysHaveSomewhereToGo) {
  EXPECT_EQ(error_of(R"({"sources": {"nic": {}, "spare": {}}, "bridges": {"br0": {"from": ["nic"]}}})"),
            "/topology/sources/spare: source spare feeds no bridge: its frames would go nowhere");
  EXPECT_EQ(error_of(R"({"bridges": {"br0": {}, "br1": {"from": ["br0"]}}, "guests": {"vm": {"bridge": "br0"}}})"),
            "/topology/bridges/br1: bridge br1 forwards to nothing (no guest or bridge behind it): its frames would go "
            "nowhere");
}

TEST(Topology, SizesAreBounded) {
  EXPECT_EQ(error_of(R"({"guests": {"vm": {"queues": 257}}})"), "/topology/guests/vm/queues: 257 is out of range [1, 256]");
  EXPECT_EQ(error_of(R"({"guests": {"a": {"count": 4000, "queues": 16}, "b": {"count": 7, "queues": 256}}})"),
            "/topology/guests/b/queues: more than 65536 receive queues in all");
  EXPECT_EQ(error_of(R"({"guests": {"a": {"count": 4096}, "b": {}}})"), "/topology/guests/b/count: more than 4096 guests in all");
  EXPECT_EQ(error_of(R"({"guests": {"vm": {"count": "many"}}})"), "/topology/guests/vm/count: expected an integer, got \"many\"");
}

TEST(Topology, RoutingFollowsTheFlowAndSpreadsFlows) {
  const Topology t = parse_topology(
      Json::parse(R"({"bridges": {"br0": {}, "br1": {"from": ["br0"]}},
                      "guests": {"a": {"count": 3, "queues": 4, "bridge": "br0"}, "b": {"count": 4, "queues": 2, "bridge": "br1"}}})"),
      "f.json");
  ASSERT_EQ(t.total_queues(), 20u);
  std::map<uint32_t, int> per_queue;
  for (uint32_t flow = 1; flow <= 40000; ++flow) {
    const uint32_t q = t.route(0, flow);
    ASSERT_LT(q, 20u);
    EXPECT_EQ(t.route(0, flow), q);  // one flow, one path
    ++per_queue[q];
  }
  ASSERT_EQ(per_queue.size(), 20u);  // every queue gets flows
  // br0 has four ports (a-0, a-1, a-2, br1), so each a-queue gets 1/16 of
  // the flows and each b-queue 1/32: within 15% of that.
  for (const auto& [q, n] : per_queue) {
    const double expect = q < 12 ? 40000.0 / 16 : 40000.0 / 32;
    EXPECT_NEAR(n, expect, 0.15 * expect) << "queue " << q;
  }
}

TEST(Topology, TextAndDotDescribeEveryNodeAndEdge) {
  const Topology t =
      parse_topology(Json::parse(R"({"cores": {"host": {"count": 2}}, "guests": {"vm": {"count": 2, "queues": 2}}})"),
                     "f.json");
  const std::string text = t.text();
  EXPECT_NE(text.find("topology: 1 source(s), 1 bridge(s), 1 core group(s) with 2 core(s), 1 backend(s), 2 guest(s), "
                      "4 receive queue(s)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bridge  br0 <- nic -> vm-0, vm-1"), std::string::npos) << text;
  auto count = [](const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
    return n;
  };
  const std::string dot = t.dot(/*expand=*/true);
  // nic->br0, br0->2 guests, 2 guests->4 queues, 4 queues->vhost, vhost->host
  EXPECT_EQ(count(dot, "->"), 1u + 2u + 4u + 4u + 1u) << dot;
  EXPECT_NE(dot.find("label=\"vm-1/rx1\\n(queue)\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"pinned to\""), std::string::npos) << dot;
  // Grouped (the default): the two guests of one entry are one node, their
  // four queues one node: nic->br0, br0->guests, guests->queues,
  // queues->vhost, vhost->host.
  const std::string grouped = t.dot();
  EXPECT_EQ(count(grouped, "->"), 5u) << grouped;
  EXPECT_EQ(count(grouped, "shape="), 6u) << grouped;
  EXPECT_NE(grouped.find("label=\"2 guests: vm-0 .. vm-1\\n2 vCPU(s) each\\n(guest)\""), std::string::npos) << grouped;
  EXPECT_NE(grouped.find("label=\"2 receive queue(s) each\\n4 in all\\n(queue)\""), std::string::npos) << grouped;
  EXPECT_NE(grouped.find("label=\"served by (4 threads)\""), std::string::npos) << grouped;
}

TEST(Topology, DotGroupsOnlyIdenticalGuests) {
  // Entries differ (queues), and a guest entry of count 1 keeps its own node
  // and queues; two bridges feeding one entry's guests draw one edge each.
  const Topology t = parse_topology(Json::parse(R"({
      "sources": {"a": {}, "b": {}},
      "bridges": {"br0": {"from": ["a", "b"]}},
      "cores": {"host": {"count": 4}},
      "guests": {"big": {"count": 128, "queues": 4}, "small": {"count": 3}, "one": {"queues": 2}}})"),
                                    "f.json");
  ASSERT_EQ(t.guests.size(), 132u);
  const std::string dot = t.dot();
  size_t nodes = 0, edges = 0;
  for (size_t p = dot.find("shape="); p != std::string::npos; p = dot.find("shape=", p + 1)) ++nodes;
  for (size_t p = dot.find("->"); p != std::string::npos; p = dot.find("->", p + 1)) ++edges;
  // 2 sources, br0, 3 guest nodes (big, small, one), queue nodes: 1 + 1 + 2, vhost, host
  EXPECT_EQ(nodes, 2u + 1u + 3u + 4u + 1u + 1u) << dot;
  // a->br0, b->br0, br0->3 guest nodes, 4 guest->queue, 4 queue->vhost, vhost->host
  EXPECT_EQ(edges, 2u + 3u + 4u + 4u + 1u) << dot;
  EXPECT_NE(dot.find("128 guests: big-000 .. big-127"), std::string::npos) << dot;
  EXPECT_NE(dot.find("512 in all"), std::string::npos) << dot;
  EXPECT_NE(dot.find("3 guests: small-0 .. small-2"), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"one/rx1\\n(queue)\""), std::string::npos) << dot;
  EXPECT_EQ(t.dot(true).find("128 guests"), std::string::npos);
}

}  // namespace
}  // namespace vringsim

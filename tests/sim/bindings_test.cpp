// Parameters bound to members: one declaration declares the key and fills the member.
#include <gtest/gtest.h>

#include "sim/core/bindings.hpp"
#include "sim/core/cost_model.hpp"
#include "sim/core/faults.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/settings.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {
namespace {

struct Demo {
  uint32_t count = 0;
  bool fast = false;
  std::string label;
  std::vector<double> xs;
};

Bindings<Demo> demo() {
  return Bindings<Demo>{}
      .bind(&Demo::count, ParamSpec::integer("count", 3, "items").range(1, 10).from("test"))
      .bind(&Demo::fast, ParamSpec::string("speed", "slow", {"slow", "fast"}).from("test"),
            [](const Json& v) { return v == "fast"; })
      .bind(&Demo::label, ParamSpec::string("label", "x").from("test"))
      .bind(&Demo::xs, ParamSpec::number_list("xs", {1, 2}, "s").from("test"))
      .declare_only(ParamSpec::string("note", "").from("test"));
}

TEST(Bindings, DeclareUnderAPrefixAndLoadWithConversions) {
  ParamTable t;
  demo().declare(t, "plug.demo.");
  for (const char* k : {"plug.demo.count", "plug.demo.speed", "plug.demo.label", "plug.demo.xs", "plug.demo.note"})
    EXPECT_NE(t.find(k), nullptr) << k;
  EXPECT_EQ(t.find("plug.demo.count")->unit, "items");
  const Config cfg(Json::parse(R"({"plug": {"demo": {"count": 7, "speed": "fast", "label": "y", "xs": [0.5]}}})"));
  const Demo d = demo().load(cfg, "plug.demo.");
  EXPECT_EQ(d.count, 7u);
  EXPECT_TRUE(d.fast);
  EXPECT_EQ(d.label, "y");
  EXPECT_EQ(d.xs, std::vector<double>{0.5});
  EXPECT_EQ(demo().keys(), (std::vector<std::string>{"count", "speed", "label", "xs", "note"}));
}

TEST(Bindings, EachSettingsStructsDefaultsAreTheDeclaredOnes) {
  // A default lives twice (the member initialiser, the declaration): a
  // scenario that sets nothing must load exactly the member defaults.
  const Scenario s = load_scenario_doc(Json{{"name", "d"}}, "defaults.json", ".", {});
  EXPECT_EQ(DeviceSettings::bindings().load(s.config), DeviceSettings{});
  EXPECT_EQ(DriverSettings::bindings().load(s.config), DriverSettings{});
  EXPECT_EQ(WireSettings::bindings().load(s.config), WireSettings{});
  EXPECT_EQ(GroSettings::bindings().load(s.config), GroSettings{});
  EXPECT_EQ(FaultSettings::bindings().load(s.config), FaultSettings{});
  RunSettings expect;
  expect.name = "d";
  expect.policy = "mergeable";
  expect.traffic_kind = "synthetic";
  const RunSettings& r = s.run;
  EXPECT_EQ(r.name, expect.name);
  EXPECT_EQ(r.seed, expect.seed);
  EXPECT_EQ(r.stop_time_s, expect.stop_time_s);
  EXPECT_EQ(r.warmup_s, expect.warmup_s);
  EXPECT_EQ(r.sample_interval_s, expect.sample_interval_s);
  EXPECT_EQ(r.ring_size, expect.ring_size);
  EXPECT_EQ(r.policy, expect.policy);
  EXPECT_EQ(r.traffic_kind, expect.traffic_kind);
}

TEST(Bindings, SettingsFollowTheScenarioAndSet) {
  const Scenario s = load_scenario_doc(Json{{"name", "d"}, {"host", {{"on_bad_chain", "drop"}}}}, "s.json", ".",
                                       {"guest.refill_rule=today", "host.tap_queue_packets=16", "seed=42"});
  EXPECT_TRUE(DeviceSettings::bindings().load(s.config).drop_bad_chains);
  EXPECT_EQ(DeviceSettings::bindings().load(s.config).tap_queue_packets, 16u);
  EXPECT_FALSE(DriverSettings::bindings().load(s.config).refill_2008);
  EXPECT_EQ(s.run.seed, 42u);
  EXPECT_EQ(CostModel::from(s.config).host_per_packet_ns, 1500.0);
  EXPECT_FALSE(CostModel::from(s.config).host_service_exponential);
}

}  // namespace
}  // namespace vringsim

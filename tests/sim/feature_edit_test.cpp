// virtio.features_remove and virtio.features_add: single features taken out
// of or put into the list the precedence chain gave virtio.features (a
// profile's, the file's, a sweep axis's or a --set's), remove first, then
// add; every edit that names no feature or changes nothing is refused with
// its pointer; and the error a policy that contradicts the features gets
// suggests the edit that makes them agree, which then loads.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/virtio.hpp"
#include "tests/sim/scenario_files.hpp"

namespace vringsim {
namespace {

class FeatureEdits : public test_support::ScenarioFiles {};

constexpr const char* kLinux6 = R"({"name": "x", "driver": {"profile": "linux-6.x"}})";

std::vector<std::string> linux6_features() {
  return {"CSUM",     "GUEST_CSUM", "MAC",     "GUEST_TSO4", "GUEST_TSO6",         "GUEST_ECN",      "HOST_TSO4", "HOST_TSO6",
          "HOST_ECN", "MRG_RXBUF",  "STATUS",  "CTRL_VQ",    "RING_INDIRECT_DESC", "RING_EVENT_IDX", "VERSION_1"};
}

std::vector<std::string> without(std::vector<std::string> names, const std::vector<std::string>& gone) {
  std::erase_if(names, [&](const std::string& n) { return std::find(gone.begin(), gone.end(), n) != gone.end(); });
  return names;
}

TEST_F(FeatureEdits, RemovingMrgRxbufFromTheProfilesListPostsBigPackets) {
  const Scenario s = load(R"({"name": "x", "driver": {"profile": "linux-6.x"},
                              "virtio": {"features_remove": ["MRG_RXBUF"]}})");
  EXPECT_EQ(s.virtio.mode, RxMode::Big);
  EXPECT_EQ(s.run.policy, "big-packets");
  // The echoed configuration holds the list that ran, in the profile's order;
  // the edit is not a setting of its own there (the list it made is).
  EXPECT_EQ(s.config.at("virtio.features").get<std::vector<std::string>>(), without(linux6_features(), {"MRG_RXBUF"}));
  EXPECT_FALSE(s.config.json()["virtio"].contains("features_remove"));
  EXPECT_FALSE(s.config.json()["virtio"].contains("features_add"));
  // The edit itself, for provenance.features_edit.
  EXPECT_EQ(s.features_edit.base, linux6_features());
  EXPECT_EQ(s.features_edit.remove, std::vector<std::string>{"MRG_RXBUF"});
  EXPECT_TRUE(s.features_edit.add.empty());
  // Without an edit the scenario records none.
  EXPECT_TRUE(load(kLinux6).features_edit.empty());
}

TEST_F(FeatureEdits, RemoveComesFirstThenAddAppends) {
  const Scenario s = load(R"({"name": "x", "driver": {"profile": "linux-6.x"},
      "virtio": {"features_remove": ["MRG_RXBUF", "RING_INDIRECT_DESC"], "features_add": ["GUEST_UFO"]}})");
  std::vector<std::string> want = without(linux6_features(), {"MRG_RXBUF", "RING_INDIRECT_DESC"});
  want.push_back("GUEST_UFO");
  EXPECT_EQ(s.config.at("virtio.features").get<std::vector<std::string>>(), want);
  EXPECT_FALSE(s.virtio.indirect());
  EXPECT_TRUE(has(s.virtio.negotiated, Feature::GUEST_UFO));
  EXPECT_EQ(s.virtio.mode, RxMode::Big);
  // Remove first: a feature the list lacks cannot be removed, even if the
  // same edit adds it (adding first would have let it through).
  EXPECT_EQ(error_of(R"({"name": "x", "driver": {"profile": "linux-6.x"},
      "virtio": {"features_remove": ["GUEST_UFO"], "features_add": ["GUEST_UFO"]}})"),
            ": /virtio/features_remove/0: GUEST_UFO is not in virtio.features (driver.profile \"linux-6.x\"'s list): "
            "removing it changes nothing");
}

TEST_F(FeatureEdits, TheScenarioFilesOwnListIsEditedToo) {
  const Scenario s = load(R"({"name": "x", "virtio": {"features": ["GUEST_CSUM", "GUEST_TSO4", "VERSION_1"],
                                                       "features_add": ["MRG_RXBUF"]}})");
  EXPECT_EQ(s.run.policy, "mergeable");
  EXPECT_EQ(s.config.at("virtio.features").get<std::vector<std::string>>(),
            (std::vector<std::string>{"GUEST_CSUM", "GUEST_TSO4", "VERSION_1", "MRG_RXBUF"}));
}

TEST_F(FeatureEdits, SetTakesOneNameOrSeveralSeparatedByCommasOrAJsonList) {
  for (const char* value : {"MRG_RXBUF", "\"MRG_RXBUF\"", "[\"MRG_RXBUF\"]"}) {
    const Scenario s = load(kLinux6, {fmt::format("virtio.features_remove={}", value)});
    EXPECT_EQ(s.run.policy, "big-packets") << value;
    EXPECT_FALSE(has(s.virtio.negotiated, Feature::MRG_RXBUF)) << value;
  }
  const Scenario two = load(kLinux6, {"virtio.features_remove=MRG_RXBUF,RING_INDIRECT_DESC"});
  EXPECT_FALSE(two.virtio.indirect());
  EXPECT_EQ(two.virtio.mode, RxMode::Big);
  // virtio.features itself takes the same short form.
  const Scenario own = load(R"({"name": "x"})", {"virtio.features=GUEST_CSUM,GUEST_TSO4"});
  EXPECT_EQ(own.run.policy, "big-packets");
  // A later --set of the same key replaces the earlier one, as for every key.
  const Scenario last = load(kLinux6, {"virtio.features_remove=RING_INDIRECT_DESC", "virtio.features_remove=MRG_RXBUF"});
  EXPECT_TRUE(last.virtio.indirect());
  EXPECT_EQ(last.virtio.mode, RxMode::Big);
}

TEST_F(FeatureEdits, UnknownNamesAreRefusedAtTheirPointer) {
  EXPECT_EQ(error_of(R"({"name": "x", "driver": {"profile": "linux-6.x"}, "virtio": {"features_remove": ["MRG_RXBUFS"]}})"),
            ": /virtio/features_remove/0: unknown feature \"MRG_RXBUFS\" (did you mean MRG_RXBUF?)");
  EXPECT_EQ(error_of(R"({"name": "x", "driver": {"profile": "linux-6.x"},
                         "virtio": {"features_add": ["GUEST_UFO", "RING_PACKD"]}})"),
            ": /virtio/features_add/1: unknown feature \"RING_PACKD\" (did you mean RING_PACKED?)");
  EXPECT_EQ(error_of(R"({"name": "x", "driver": {"profile": "linux-6.x"}, "virtio": {"features_remove": [7]}})"),
            ": /virtio/features_remove: element 0: expected a string, got 7");
  // From a --set: the error names the --set.
  EXPECT_EQ(error_of(kLinux6, {"virtio.features_remove=MRG_RXBUF,BOGUS"}),
            "--set virtio.features_remove=MRG_RXBUF,BOGUS: /virtio/features_remove/1: unknown feature \"BOGUS\"");
}

TEST_F(FeatureEdits, AnEditThatChangesNothingIsRefused) {
  EXPECT_EQ(error_of(kLinux6, {"virtio.features_remove=RING_PACKED"}),
            "--set virtio.features_remove=RING_PACKED: /virtio/features_remove/0: RING_PACKED is not in "
            "virtio.features (driver.profile \"linux-6.x\"'s list): removing it changes nothing");
  EXPECT_EQ(error_of(kLinux6, {"virtio.features_add=MRG_RXBUF"}),
            "--set virtio.features_add=MRG_RXBUF: /virtio/features_add/0: MRG_RXBUF is already in virtio.features "
            "(driver.profile \"linux-6.x\"'s list): adding it changes nothing");
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["MRG_RXBUF", "VERSION_1"], "features_add": ["VERSION_1"]}})"),
            ": /virtio/features_add/0: VERSION_1 is already in virtio.features: adding it changes nothing");
  EXPECT_EQ(error_of(kLinux6, {"virtio.features_remove=MRG_RXBUF,MRG_RXBUF"}),
            "--set virtio.features_remove=MRG_RXBUF,MRG_RXBUF: /virtio/features_remove/1: MRG_RXBUF appears twice");
  EXPECT_EQ(error_of(kLinux6, {"virtio.features_remove=MRG_RXBUF", "virtio.features_add=MRG_RXBUF"}),
            "--set virtio.features_add=MRG_RXBUF: /virtio/features_add/0: MRG_RXBUF is removed by "
            "virtio.features_remove too: removing and adding it changes nothing");
  // Without a list there is nothing to edit: an empty virtio.features means
  // the named policy's 2008 features, which are not a list of their own.
  EXPECT_EQ(error_of(R"({"name": "x"})", {"virtio.features_add=RING_EVENT_IDX"}),
            "--set virtio.features_add=RING_EVENT_IDX: /virtio/features_add: there is no virtio.features list to "
            "edit (empty: the named policy's 2008 features); give driver.profile or virtio.features");
  // Nor can an edit empty the list: that too would mean the 2008 features.
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["MRG_RXBUF"], "features_remove": ["MRG_RXBUF"]}})"),
            ": /virtio/features_remove: removes every feature of virtio.features, and an empty list means the named "
            "policy's 2008 features, not none");
  // An empty edit is no edit.
  const Scenario none = load(kLinux6, {"virtio.features_remove=[]"});
  EXPECT_EQ(none.run.policy, "mergeable");
  EXPECT_EQ(none.config.at("virtio.features").get<std::vector<std::string>>(), linux6_features());
}

/// The `--set KEY=VALUE` assignments an error message suggests, in order.
std::vector<std::string> suggested_sets(const std::string& message) {
  std::vector<std::string> out;
  static const std::regex set(R"(--set (virtio\.[a-z_]+=[^ ]+))");
  for (auto it = std::sregex_iterator(message.begin(), message.end(), set); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

TEST_F(FeatureEdits, BigPacketsOnTheLinux6ProfileSuggestsRemovingMrgRxbuf) {
  const std::string e = error_of(kLinux6, {"policy.name=big-packets"});
  EXPECT_EQ(e,
            "--set policy.name=big-packets: /policy/name: policy \"big-packets\" posts big buffers, but the features "
            "in /virtio/features make the driver post mergeable buffers; --set virtio.features_remove=MRG_RXBUF makes "
            "them post big buffers and keeps the other features");
  EXPECT_EQ(e.find('\n'), std::string::npos);
  const Scenario s = load(kLinux6, {"policy.name=big-packets", "virtio.features_remove=MRG_RXBUF"});
  EXPECT_EQ(s.run.policy, "big-packets");
}

TEST_F(FeatureEdits, SmallOnTheLinux6ProfileSuggestsRemovingGuestGsoAndWhatNeedsIt) {
  const std::string e = error_of(kLinux6, {"policy.name=small"});
  // GUEST_ECN needs GUEST_TSO4 or GUEST_TSO6: it goes with them.
  EXPECT_NE(e.find("; --set virtio.features_remove=GUEST_TSO4,GUEST_TSO6,GUEST_ECN,MRG_RXBUF makes them post small "
                   "buffers and keeps the other features"),
            std::string::npos)
      << e;
  const Scenario s = load(kLinux6, {"policy.name=small", "virtio.features_remove=GUEST_TSO4,GUEST_TSO6,GUEST_ECN,MRG_RXBUF"});
  EXPECT_EQ(s.virtio.mode, RxMode::Small);
}

TEST_F(FeatureEdits, MergeableOnAListWithoutMrgRxbufSuggestsAddingIt) {
  const std::string e = error_of(R"({"name": "x", "driver": {"profile": "linux-6.x"}, "policy": {"name": "mergeable"},
                                    "virtio": {"features_remove": ["MRG_RXBUF"]}})");
  // The suggestion replaces the edit the scenario made: without it, the
  // profile's list already posts mergeable buffers.
  EXPECT_NE(e.find("; --set virtio.features_remove=[] makes them post mergeable buffers"), std::string::npos) << e;
  const std::string f = error_of(R"({"name": "x", "driver": {"profile": "linux-2.6.26"}, "policy": {"name": "mergeable"}})");
  EXPECT_NE(f.find("; --set virtio.features_add=MRG_RXBUF makes them post mergeable buffers and keeps the other "
                   "features"),
            std::string::npos)
      << f;
}

TEST_F(FeatureEdits, AnEditAlreadyGivenIsKeptInTheSuggestion) {
  // The user removed MRG_RXBUF and now asks for small buffers: the suggestion
  // must not drop MRG_RXBUF's removal (a later --set replaces an earlier one).
  const std::string e = error_of(kLinux6, {"virtio.features_remove=MRG_RXBUF", "policy.name=small"});
  const auto sets = suggested_sets(e);
  ASSERT_EQ(sets, (std::vector<std::string>{"virtio.features_remove=GUEST_TSO4,GUEST_TSO6,GUEST_ECN,MRG_RXBUF"})) << e;
  const Scenario s = load(kLinux6, {"virtio.features_remove=MRG_RXBUF", "policy.name=small", sets[0]});
  EXPECT_EQ(s.virtio.mode, RxMode::Small);
}

TEST_F(FeatureEdits, EveryPolicyThatContradictsAFeatureListGetsASuggestionThatLoads) {
  const std::vector<std::string> bases = {
      kLinux6,
      R"({"name": "x", "driver": {"profile": "linux-2.6.26"}})",
      R"({"name": "x", "driver": {"profile": "linux-6.x"}, "virtio": {"features_remove": ["MRG_RXBUF"]}})",
      R"({"name": "x", "virtio": {"features": ["VERSION_1", "RING_EVENT_IDX"]}})",
      R"({"name": "x", "virtio": {"features": ["MTU", "VERSION_1"], "mtu": 9000}})",
  };
  int conflicts = 0;
  for (const std::string& base : bases)
    for (const PolicyInfo* p : Registry<PolicyInfo>::instance().all()) {
      const std::vector<std::string> sets = {"policy.name=" + p->name};
      const std::string e = error_of(base, sets);
      if (e.find("make the driver post") == std::string::npos) continue;
      ++conflicts;
      EXPECT_EQ(e.find('\n'), std::string::npos) << e;
      std::vector<std::string> fixed = sets;
      for (const auto& s : suggested_sets(e)) fixed.push_back(s);
      ASSERT_GT(fixed.size(), sets.size()) << base << " " << p->name << ": " << e;
      EXPECT_EQ(error_of(base, fixed), "") << base << " " << p->name << " with the suggestion of: " << e;
      const Scenario s = load(base, fixed);
      EXPECT_EQ(s.run.policy, p->name) << base;
    }
  EXPECT_GE(conflicts, 15);
}

}  // namespace
}  // namespace vringsim

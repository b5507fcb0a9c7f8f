// Bad input: one line naming the file and the JSON pointer, never a crash.
#include "sim/core/scenario.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <fstream>

#include "sim/core/cost_model.hpp"
#include "sim/core/cost_preset.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/traffic.hpp"
#include "tests/sim/scenario_files.hpp"

namespace vringsim {
namespace {

using test_support::ScenarioFiles;

TEST_F(ScenarioFiles, AMinimalScenarioLoadsWithEveryDefaultResolved) {
  const std::string f = write(R"({"name": "x"})");
  const Scenario s = load_scenario(f);
  EXPECT_EQ(s.name, "x");
  EXPECT_EQ(s.config.integer("ring.size"), 256);
  EXPECT_EQ(s.config.integer("host.tap_queue_packets"), 500);
  EXPECT_EQ(s.config.integer("guest.napi_budget"), 64);
  EXPECT_TRUE(s.config.flag("policy.max-buffer.recycle_pages"));  // unselected policies resolve too
  EXPECT_EQ(s.sha256().size(), 64u);
}

TEST_F(ScenarioFiles, MalformedJsonNamesLineAndColumn) {
  EXPECT_EQ(error_of("{\n  \"name\": \"x\",\n}"),
            ": /: invalid JSON: parse error at line 3, column 1: syntax error while parsing object key - unexpected "
            "'}'; expected string literal");
}

TEST_F(ScenarioFiles, ANumberTooLargeForADoubleIsBadInputNotACrash) {
  // Found by fuzz_scenario: nlohmann/json throws out_of_range, not parse_error.
  EXPECT_EQ(error_of(R"({"name": "x", "seed": 1e999})"),
            ": /: invalid JSON: number overflow parsing '1e999'");
}

TEST(Pointers, DottedKeysAndJsonPointersConvertBothWays) {
  EXPECT_EQ(key_to_pointer("ring.size"), "/ring/size");
  EXPECT_EQ(key_to_pointer("name"), "/name");
  EXPECT_EQ(key_to_pointer(""), "/");
  EXPECT_EQ(key_to_pointer("a/b.c~d"), "/a~1b/c~0d");
  EXPECT_EQ(escape_pointer_token("c/~"), "c~1~0");
  for (const char* k : {"ring.size", "policy.max-buffer.recycle_pages", "a/b.c~d"})
    EXPECT_EQ(pointer_to_key(key_to_pointer(k)), k);
}


// find_key and set_if_missing replace a pointer built per look-up: they must
// give the pointer's answers, also through arrays, nulls, numbers and the
// characters a pointer escapes.
TEST(Pointers, KeyLookUpsAnswerAsTheJsonPointerDoes) {
  const Json doc = Json::parse(R"({"ring": {"size": 256, "gone": null}, "list": [{"a": 1}, 2],
                                   "n": 5, "s": "x", "a/b": {"c~d": true}, "e": {}, "": {"": 3}})");
  const std::vector<std::string> keys = {"ring.size", "ring.gone", "ring", "ring.size.more", "ring.missing",
                                         "list.0.a", "list.1", "list.2", "list.x", "n", "n.m", "s.t",
                                         "a/b.c~d", "a/b.c", "e", "e.f", "", ".", "missing.deeper"};
  for (const std::string& k : keys) {
    const Json::json_pointer ptr(key_to_pointer(k));
    const Json* found = find_key(doc, k);
    ASSERT_EQ(found != nullptr, doc.contains(ptr)) << k;
    if (found) {
      EXPECT_EQ(found, &doc.at(ptr)) << k;
    }

    Json by_pointer = doc, by_key = doc;
    bool pointer_threw = false, key_threw = false;
    try {
      if (!by_pointer.contains(ptr)) by_pointer[ptr] = 7;
    } catch (const Json::exception&) {
      pointer_threw = true;
    }
    try {
      set_if_missing(by_key, k, 7);
    } catch (const Json::exception&) {
      key_threw = true;
    }
    EXPECT_EQ(key_threw, pointer_threw) << k;
    if (!pointer_threw) {
      EXPECT_EQ(by_key, by_pointer) << k;
    }
  }
  Json null_doc;  // a null document becomes an object, as with operator[]
  set_if_missing(null_doc, "a.b", 1);
  EXPECT_EQ(null_doc, Json::parse(R"({"a": {"b": 1}})"));
}
TEST_F(ScenarioFiles, AKeyGivenTwiceIsRefusedNotSilentlyOverwritten) {
  // nlohmann/json keeps the last of two equal keys: ring.size would have been 512.
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"size": 256, "size": 512}})"),
            ": /ring/size: key appears twice in one object");
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"size": 256}, "ring": {"size": 512}})"),
            ": /ring: key appears twice in one object");
  // Pointers count array elements and escape "/" and "~".
  EXPECT_EQ(error_of(R"({"a": [1, {"b": 1}, {"c/~": 1, "c/~": 2}]})"),
            ": /a/2/c~1~0: key appears twice in one object");
  // Equal keys in different objects are fine.
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"size": 256}, "host": {"burst_packets": 8}, "guest": {"napi_budget": 8}})"), "");
}

TEST(Defaults, FilledInOneWalkAsKeyByKey) {
  // resolve_defaults walks a tree of every default at once; it gives what
  // setting each declared default on its own gives, nulls and odd shapes too.
  auto key_by_key = [](Json doc) {
    for (const ParamSpec* spec : param_table().all())
      if (spec->edits.empty()) set_if_missing(doc, spec->key, spec->default_value);
    return doc;
  };
  auto outcome = [](auto&& resolve, const Json& doc) {
    try {
      return resolve(doc).dump();
    } catch (const Json::exception& e) {
      return std::string("threw ") + e.what();
    }
  };
  size_t checked = 0;
  for (const char* text :
       {R"({})", R"({"name": "x"})", R"({"ring": {"size": 512}})", R"({"ring": null})", R"({"ring": {"size": null}})",
        R"({"ring": {}})", R"({"host": {"tap_queue_packets": 9}, "guest": null, "policy": {"max-buffer": null}})",
        R"({"policy": {"max-buffer": {"recycle_pages": false}}, "virtio": {"features": ["MRG_RXBUF"]}})",
        R"({"traffic": {"kind": "csv", "csv": {"file": "a.csv"}}, "topology": {"guests": {"vm": {"count": 2}}}})",
        R"({"ring": {"size": {"odd": 1}}, "unknown": [1]})", R"({"ring": 5})", R"({"ring": [1]})", R"(null)",
        R"({"policy": {"max-buffer": 3}})"}) {
    const Json doc = Json::parse(text);
    EXPECT_EQ(outcome(resolve_defaults, doc), outcome(key_by_key, doc)) << text;
    ++checked;
  }
  // And every section of a full resolved configuration, removed or nulled in turn.
  const Json full = resolve_defaults(Json::object());
  for (auto it = full.begin(); it != full.end(); ++it) {
    for (const Json& replacement : {Json(), Json::object()}) {
      Json doc = full;
      doc[it.key()] = replacement;
      EXPECT_EQ(outcome(resolve_defaults, doc), outcome(key_by_key, doc)) << it.key();
      ++checked;
    }
  }
  EXPECT_GT(checked, 30u);
}

TEST(ParseJson, BuildsTheDocumentNlohmannParses) {
  // parse_json builds the document from SAX events itself (for its checks):
  // every kind of value, in objects and arrays at any depth, comes out as
  // nlohmann's own parser reads it.
  for (const char* text :
       {"{}", "[]", "null", "true", "-0.0", "18446744073709551615", "-9223372036854775808", "\"a\\u0000b\"",
        R"({"a": [1, 2.5, "x", null, false, [], {}], "b": {"c": {"d": [[[-1]]]}}, "e": 1e308})",
        R"([{"x": 1}, [{"y": [2, {"z": {}}]}], 3])", R"({"": {"~/": ["\ud83d\ude00"]}})"}) {
    EXPECT_EQ(parse_json(text, "t"), Json::parse(text)) << text;
  }
}

TEST(ParseJson, NamesWhereNestingGoesTooDeep) {
  auto error = [](const std::string& text) {
    try {
      (void)parse_json(text, "t");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // 64 levels are allowed (the object, "a", 62 arrays in it); the 65th is
  // refused where it opens, named by its pointer (/a/1/0/0/..., shortened).
  EXPECT_EQ(error(R"({"a": [1, )" + std::string(62, '[') + std::string(62, ']') + "]}"), "");
  const std::string deep = error(R"({"a": [1, )" + std::string(63, '[') + std::string(63, ']') + "]}");
  EXPECT_TRUE(deep.starts_with("t: /a/1/0/0/0/")) << deep;
  EXPECT_TRUE(deep.ends_with(": nested deeper than 64 levels")) << deep;
  EXPECT_EQ(error(R"({"k": [{"k": 1}, {"k": 2, "k": 3}]})"), "t: /k/1/k: key appears twice in one object");
  EXPECT_EQ(error(R"({"a": 1} x)"),
            "t: /: invalid JSON: parse error at line 1, column 10: syntax error while parsing value - invalid literal; "
            "last read: '1} x'; expected end of input");
  EXPECT_EQ(error(R"({"a": 1e400})"), "t: /: invalid JSON: number overflow parsing '1e400'");
}

TEST(InputErrors, AHintWorkedOutWhenReadIsInEveryCopyOfTheMessage) {
  int made = 0;
  const InputError e("f.json: /ring/siz: unknown key", [&made] {
    ++made;
    return std::string(" (did you mean /ring/size?)");
  });
  EXPECT_EQ(made, 0);  // not when thrown: only when read
  const InputError copy = e;  // what a throw or a rethrow makes
  EXPECT_STREQ(copy.what(), "f.json: /ring/siz: unknown key (did you mean /ring/size?)");
  EXPECT_STREQ(e.what(), copy.what());
  EXPECT_EQ(made, 1);
  try {
    fail_input("f.json", "/x", "unknown key", [] { return std::string(); });
  } catch (const std::exception& caught) {
    EXPECT_STREQ(caught.what(), "f.json: /x: unknown key");
  }
}

TEST_F(ScenarioFiles, WrongTypeIsNamedByPointer) {
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"size": "big"}})"), R"(: /ring/size: expected an integer, got "big")");
  EXPECT_EQ(error_of(R"({"name": "x", "ring": 5})"), ": /ring: expected an object, got 5");
}

TEST_F(ScenarioFiles, UnknownKeySuggestsTheNearest) {
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"siz": 256}})"), ": /ring/siz: unknown key (did you mean /ring/size?)");
  EXPECT_EQ(error_of(R"({"name": "x", "polcy": {}})"), ": /polcy: unknown key (did you mean /policy?)");
  EXPECT_EQ(error_of(R"({"name": "x", "zzzzzzzzzzzz": 1})"), ": /zzzzzzzzzzzz: unknown key");
}

TEST_F(ScenarioFiles, OutOfRangeAndBadRingSizes) {
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"size": 300}})"), ": /ring/size: 300 is not a power of two (1..32768); a split ring needs one, RING_PACKED takes any size");
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"size": 65536}})"), ": /ring/size: 65536 is out of range (1..32768)");
  EXPECT_EQ(error_of(R"({"name": "x", "guest": {"page_alloc_failure_prob": 1.5}})"),
            ": /guest/page_alloc_failure_prob: 1.5 is out of range (0..1)");
}

// Issue 35: the seed's range was 0..9.2e18 as a double, below the 2^63 - 1
// that --seed took, and printed rounded.
TEST_F(ScenarioFiles, SeedAndStopPacketsTakeEveryInt64AndStateTheirRangeExactly) {
  EXPECT_EQ(error_of(R"({"name": "x", "seed": 9223372036854775807, "stop": {"packets": 9223372036854775807}})"), "");
  EXPECT_EQ(error_of(R"({"name": "x", "seed": 9200000000000000001})"), "");
  EXPECT_EQ(error_of(R"({"name": "x", "seed": 9223372036854775808})"),
            ": /seed: 9223372036854775808 is out of range (0..9223372036854775807)");
  EXPECT_EQ(error_of(R"({"name": "x", "seed": 18446744073709551615})"),
            ": /seed: 18446744073709551615 is out of range (0..9223372036854775807)");
  EXPECT_EQ(error_of(R"({"name": "x", "seed": -1})"), ": /seed: -1 is out of range (0..9223372036854775807)");
  EXPECT_EQ(error_of(R"({"name": "x", "stop": {"packets": 9223372036854775808}})"),
            ": /stop/packets: 9223372036854775808 is out of range (0..9223372036854775807)");
}

TEST(Params, AnIntegerRangeIsCheckedAndPrintedExactly) {
  const ParamSpec p = ParamSpec::integer("k", 0, "").integer_range(-3, INT64_MAX);
  EXPECT_EQ(p.range_text(), "-3..9223372036854775807");
  EXPECT_EQ(p.validate(Json(-3)), "");
  EXPECT_EQ(p.validate(Json(-4)), "-4 is out of range (-3..9223372036854775807)");
  EXPECT_EQ(p.validate(Json(INT64_MAX)), "");
  EXPECT_EQ(p.validate(Json(uint64_t{1} << 63)), "9223372036854775808 is out of range (-3..9223372036854775807)");
  const ParamSpec q = ParamSpec::integer("k", 5, "").integer_range(5, 7);
  EXPECT_EQ(q.validate(Json(uint64_t{4})), "4 is out of range (5..7)");
  EXPECT_EQ(q.validate(Json(uint64_t{7})), "");
}

TEST_F(ScenarioFiles, ARingSmallerThanOneSlotIsBadInput) {
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"size": 16}, "policy": {"name": "max-buffer"}})"),
            ": /ring/size: 16 entries cannot hold one max-buffer slot (20 descriptors)");
  EXPECT_EQ(error_of(R"({"name": "x", "ring": {"size": 32}, "policy": {"name": "max-buffer"}})"), "");
}

TEST_F(ScenarioFiles, UnknownPolicyListsTheValidOnes) {
  EXPECT_EQ(error_of(R"({"name": "x", "policy": {"name": "huge"}})"),
            ": /policy/name: \"huge\" is not one of auto|big-packets|coalesced|hdr-in-data|larger-ring|max-buffer|mergeable|small");
  EXPECT_EQ(error_of(R"({"name": "x", "policy": {"nope": {"a": 1}}})"),
            ": /policy/nope: unknown key (did you mean /policy/name?)");
}

TEST_F(ScenarioFiles, ParametersOfUnselectedPoliciesAreStillValidated) {
  EXPECT_EQ(error_of(R"({"name": "x", "policy": {"name": "mergeable", "coalesced": {"order": 11}}})"),
            ": /policy/coalesced/order: 11 is out of range (0..10)");
}

TEST_F(ScenarioFiles, MissingFileAndMissingName) {
  try {
    load_scenario((dir_ / "absent.json").string());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "absent.json").string() + ": /: cannot open file");
  }
  EXPECT_EQ(error_of(R"({"ring": {"size": 256}})"), ": /name: required key is missing");
  EXPECT_EQ(error_of(R"({"name": "a/b"})").substr(0, 9), ": /name: ");
  EXPECT_EQ(error_of("[1, 2]"), ": /: a scenario must be a JSON object");
}

TEST_F(ScenarioFiles, CrossFieldChecksNameTheFirstKey) {
  EXPECT_EQ(error_of(R"({"name": "x", "stop": {"time_s": 0.5}, "measure": {"warmup_s": 0.5}})"),
            ": /measure/warmup_s: warm-up (0.5 s) must end before the run stops (stop.time_s = 0.5 s)");
  EXPECT_EQ(
      error_of(
          R"({"name": "x", "traffic": {"synthetic": {"length": "weighted", "lens_bytes": [60, 1514], "weights": [1]}}})"),
      ": /traffic/synthetic/weights: 1 weights for 2 lengths");
  EXPECT_EQ(
      error_of(
          R"({"name": "x", "traffic": {"synthetic": {"length": "uniform", "min_len_bytes": 900, "max_len_bytes": 100}}})"),
      ": /traffic/synthetic/min_len_bytes: 900 is above max_len_bytes (100)");
}

TEST_F(ScenarioFiles, SetOverridesTheFileAndIsValidatedLikeIt) {
  const std::string f = write(R"({"name": "x", "ring": {"size": 512}})");
  EXPECT_EQ(load_scenario(f, {"ring.size=1024"}).config.integer("ring.size"), 1024);
  EXPECT_EQ(load_scenario(f, {"policy.name=small"}).config.string("policy.name"), "small");  // not JSON: a string
  EXPECT_EQ(load_scenario(f, {"seed=9"}).config.integer("seed"), 9);
  try {
    load_scenario(f, {"ring.siz=4"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "--set ring.siz=4: /ring/siz: unknown key (did you mean ring.size?)");
  }
  try {
    load_scenario(f, {"ring.size=3"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "--set ring.size=3: /ring/size: 3 is not a power of two (1..32768); a split ring needs one, RING_PACKED takes any size");
  }
  // The hash follows the resolved configuration.
  EXPECT_NE(load_scenario(f).sha256(), load_scenario(f, {"seed=2"}).sha256());
  EXPECT_EQ(load_scenario(f).sha256(), load_scenario(f).sha256());
}

TEST(CostPresets, ATypedPresetResolvesAgainstTheWorkingDirectoryAnAxisAgainstTheScenario) {
  // Issue 30: `--set costs.preset=FILE` looked for FILE beside the scenario.
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / fmt::format("vringsim-preset-{}", getpid());
  fs::create_directories(dir / "scen");
  auto preset = [](const fs::path& file, int ns) {
    std::ofstream(file) << fmt::format(R"({{"kind": "vringsim-cost-preset", "costs": {{"guest": {{"per_packet_ns": {}}}}}}})", ns);
  };
  preset(dir / "p.json", 4321);
  preset(dir / "scen" / "p.json", 1234);
  const fs::path was = fs::current_path();
  fs::current_path(dir);
  const Json doc = {{"name", "x"}};
  const std::string base = (dir / "scen").string();
  auto cost = [](const Scenario& s) { return s.config.number("costs.guest.per_packet_ns"); };
  // Typed on the command line (every override from typed_from = 0 on): the working directory.
  const double typed = cost(load_scenario_doc(doc, "s.json", base, {"costs.preset=p.json"}));
  // Before typed_from (a sweep axis, a calibration point): the scenario's directory, as in the file.
  const double axis = cost(load_scenario_doc(doc, "s.json", base, {"costs.preset=p.json"}, 1));
  const double in_file =
      cost(load_scenario_doc({{"name", "x"}, {"costs", {{"preset", "p.json"}}}}, "s.json", base, {"seed=3"}));
  std::string missing;
  try {
    load_scenario_doc(doc, "s.json", base, {"costs.preset=scen/none.json"});
  } catch (const InputError& e) {
    missing = e.what();
  }
  fs::current_path(was);
  fs::remove_all(dir);
  EXPECT_EQ(typed, 4321);
  EXPECT_EQ(axis, 1234);
  EXPECT_EQ(in_file, 1234);
  EXPECT_EQ(missing, "--set costs.preset=scen/none.json: /costs/preset: scen/none.json does not exist");
}

TEST(CostPresets, EveryShippedPresetParsesAndGivesEveryValueASource) {
  const auto presets = Registry<CostPresetInfo>::instance().all();
  ASSERT_GE(presets.size(), 2u);
  for (const CostPresetInfo* p : presets) {
    SCOPED_TRACE(p->file);
    const Json doc = parse_json(p->text, p->file);
    check_cost_preset(doc, p->file);  // throws on a bad key or value
    EXPECT_EQ(doc.at("name"), p->name);
    EXPECT_EQ(p->file, "models/presets/" + p->name + ".json");
    const Json flat = doc.at("costs").flatten();
    for (const auto& [ptr, value] : flat.items())
      EXPECT_TRUE(doc.at("sources").contains("costs." + pointer_to_key(ptr))) << ptr;
  }
}

TEST(CostPresets, The2008PresetIsTheDefaultsValueForValueAndSourceForSource) {
  // The defaults every scenario without a preset runs on are the 2008 era's:
  // the file and the declarations must not drift apart.
  const CostPresetInfo* p = Registry<CostPresetInfo>::instance().find("2008");
  ASSERT_NE(p, nullptr);
  const Json doc = parse_json(p->text, p->file);
  size_t costs = 0;
  for (const ParamSpec* spec : param_table().all()) {
    if (!spec->key.starts_with("costs.") || spec->type != ParamType::Number) continue;
    ++costs;
    SCOPED_TRACE(spec->key);
    const Json::json_pointer at(key_to_pointer(spec->key));
    ASSERT_TRUE(doc.contains(at));
    EXPECT_EQ(doc[at].get<double>(), spec->default_value.get<double>());
    EXPECT_EQ(doc["sources"][spec->key], spec->source);
  }
  EXPECT_EQ(costs, doc["costs"].flatten().size());
  // Its latencies are the 2008 host's: the linux-2.6.26 profile's, value for value.
  const ProfileInfo* old = Registry<ProfileInfo>::instance().find("linux-2.6.26");
  ASSERT_NE(old, nullptr);
  size_t latencies = 0;
  for (const ProfileSetting& s : old->settings) {
    if (!s.key.starts_with("latency.")) continue;
    ++latencies;
    EXPECT_EQ(doc[Json::json_pointer(key_to_pointer(s.key))], s.value) << s.key;
  }
  EXPECT_EQ(latencies, doc["latency"].size());
}

TEST_F(ScenarioFiles, AShippedPresetFillsAsTheSameTextInAFileDoesEveryTime) {
  // A shipped preset is parsed and checked once; a preset file every time.
  // Both fill the same keys with the same values and sources, load after load.
  for (const CostPresetInfo* p : Registry<CostPresetInfo>::instance().all()) {
    SCOPED_TRACE(p->name);
    const std::string file = write(p->text);
    const std::string own = R"(, "costs": {"guest": {"per_packet_ns": 777}}, "latency": {"kick_ns": 5}})";
    for (int load_no = 0; load_no < 2; ++load_no) {
      const Scenario shipped = load(R"({"name": "x")" + own, {"costs.preset=" + p->name});
      const Scenario from_file = load(R"({"name": "x")" + own, {"costs.preset=" + file});
      EXPECT_EQ(shipped.cost_preset.name, p->name);
      EXPECT_EQ(shipped.cost_preset.filled, from_file.cost_preset.filled);
      EXPECT_EQ(shipped.cost_preset.sources, from_file.cost_preset.sources);
      EXPECT_FALSE(shipped.cost_preset.filled.contains("costs.guest.per_packet_ns"));
      EXPECT_FALSE(shipped.cost_preset.filled.contains("latency.kick_ns"));
      Json a = shipped.config.json(), b = from_file.config.json();  // all but costs.preset alike
      a["costs"].erase("preset");
      b["costs"].erase("preset");
      EXPECT_EQ(a, b);
    }
  }
}

TEST_F(ScenarioFiles, AShippedPresetFillsWhatTheScenarioLeavesAndSaysWhere) {
  const Scenario today = load(R"({"name": "x", "costs": {"preset": "today-x86"}})");
  EXPECT_EQ(today.cost_preset.name, "today-x86");
  EXPECT_EQ(today.cost_preset.file, "models/presets/today-x86.json");
  const Json today_preset = parse_json(Registry<CostPresetInfo>::instance().find("today-x86")->text, "today");
  EXPECT_EQ(today.config.number("costs.guest.per_packet_ns"), today_preset["costs"]["guest"]["per_packet_ns"].get<double>());
  // A value the scenario gives is the scenario's, and provenance says so.
  const Scenario own = load(R"({"name": "x", "costs": {"preset": "today-x86", "guest": {"per_packet_ns": 777}}})");
  EXPECT_EQ(own.config.number("costs.guest.per_packet_ns"), 777);
  EXPECT_FALSE(own.cost_preset.filled.contains("costs.guest.per_packet_ns"));
  const Json origins = CostModel::origins(own.config, own.cost_preset);
  EXPECT_EQ(origins["costs.guest.per_packet_ns"]["origin"], "given");
  EXPECT_EQ(origins["costs.guest.per_byte_ns"]["origin"], "calibrated");
  EXPECT_EQ(origins["costs.guest.per_byte_ns"]["preset"], "today-x86");
  EXPECT_EQ(origins["costs.host.per_descriptor_ns"]["origin"], "estimate");
  // The scenario may name the other era's preset.
  const Scenario old = load(R"({"name": "x", "driver": {"profile": "linux-6.x"}, "costs": {"preset": "2008"}})");
  EXPECT_EQ(old.config.number("costs.guest.per_packet_ns"), param_table().find("costs.guest.per_packet_ns")->default_value);
  EXPECT_EQ(old.config.number("latency.kick_ns"), 1000);  // the profile's latency, filled before the preset's
  // Typed as it is named: a string key takes "2008" as the string, not the number.
  EXPECT_EQ(load(R"({"name": "x"})", {"costs.preset=2008"}).cost_preset.name, "2008");
  // driver.profile linux-6.x runs on its era's preset; linux-2.6.26 on the defaults (2008).
  EXPECT_EQ(load(R"({"name": "x", "driver": {"profile": "linux-6.x"}})").cost_preset.name, "today-x86");
  EXPECT_TRUE(load(R"({"name": "x", "driver": {"profile": "linux-2.6.26"}})").cost_preset.empty());
  // No profile, no preset: the defaults (the 2008 values), no preset in provenance.
  EXPECT_TRUE(load(R"({"name": "x"})").cost_preset.empty());
  const std::string unknown = error_of(R"({"name": "x", "costs": {"preset": "today"}})");
  EXPECT_NE(unknown.find("today does not exist (and is not a shipped preset: 2008, today-x86)"), std::string::npos)
      << unknown;
}

TEST_F(ScenarioFiles, AnXdpProgramAttachesAsLinuxVirtnetXdpSetAllowsIt) {
  // Guest offloads without CTRL_GUEST_OFFLOADS: refused, as virtnet_xdp_set() refuses.
  const std::string offloads = error_of(R"({"name": "x", "driver": {"profile": "linux-6.x"}, "guest": {"xdp_action": "drop"}})");
  EXPECT_NE(offloads.find("/guest/xdp_action: Linux refuses the XDP program"), std::string::npos) << offloads;
  EXPECT_NE(offloads.find("GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, GUEST_ECN"), std::string::npos) << offloads;
  // With CTRL_GUEST_OFFLOADS the driver turns them off: mergeable stays, guest GSO goes.
  const Scenario m = load(R"({"name": "x", "guest": {"xdp_action": "drop"}, "virtio": {"features":
      ["GUEST_CSUM", "GUEST_TSO4", "GUEST_TSO6", "MRG_RXBUF", "CTRL_VQ", "CTRL_GUEST_OFFLOADS", "VERSION_1"]}})");
  EXPECT_EQ(m.virtio.mode, RxMode::Mergeable);
  EXPECT_FALSE(m.virtio.guest_gso());
  // Big packets never run the program.
  const std::string big = error_of(R"({"name": "x", "guest": {"xdp_action": "pass"}, "virtio": {"features":
      ["GUEST_CSUM", "GUEST_TSO4", "CTRL_VQ", "CTRL_GUEST_OFFLOADS", "VERSION_1"]}})");
  EXPECT_NE(big.find("/guest/xdp_action: an XDP program never runs on big packets"), std::string::npos) << big;
  // Small buffers without offloads: attaches.
  EXPECT_EQ(error_of(R"({"name": "x", "guest": {"xdp_action": "drop"}, "virtio": {"features": ["VERSION_1"]}})"), "");
}

// host.notify_on_empty is the 2008 QEMU's rule (qemu/hw/virtio.c
// virtio_notify): QEMU's backend, a split ring, the flags. Anything else is
// refused at the key, with what stands in the way and the edit that runs it.
TEST_F(ScenarioFiles, NotifyOnEmptyRunsOnlyWhereThe2008QemuRuleApplied) {
  const std::string base = R"({"name": "x", "policy": {"name": "mergeable"}, "host": {"notify_on_empty": true)";
  EXPECT_EQ(error_of(base + "}}"), "");
  EXPECT_TRUE(load(base + "}}").config.flag("host.notify_on_empty"));
  const std::string vhost = error_of(base + R"(, "backend": "vhost"}})");
  EXPECT_EQ(vhost.find(": /host/notify_on_empty: true is the 2008 QEMU's rule"), 0u) << vhost;
  EXPECT_NE(vhost.find("host.backend \"qemu\""), std::string::npos) << vhost;
  // linux-6.x brings vhost, the event index and VERSION_1: the backend is named first.
  const std::string today = error_of(base + R"(}, "driver": {"profile": "linux-6.x"}})");
  EXPECT_NE(today.find("/host/notify_on_empty: true is the 2008 QEMU's rule (virtio_notify"), std::string::npos)
      << today;
  // The event index: refused, and the suggested edit runs.
  const std::string ev = base + R"(}, "virtio": {"features": ["MRG_RXBUF", "RING_EVENT_IDX"]}})";
  const std::string e = error_of(ev);
  EXPECT_EQ(e.find(": /host/notify_on_empty: true is the 2008 QEMU's rule of a split ring with the flags"), 0u) << e;
  EXPECT_NE(e.find("virtio_split_should_notify"), std::string::npos) << e;
  EXPECT_NE(e.find("virtio.features_remove=RING_EVENT_IDX runs it"), std::string::npos) << e;
  EXPECT_EQ(error_of(ev, {"virtio.features_remove=RING_EVENT_IDX"}), "");
  // The packed ring (QEMU's virtio_packed_should_notify has no such rule),
  // with the event index too: both are named.
  const std::string host_all = R"(host.features=["MRG_RXBUF","VERSION_1","RING_EVENT_IDX","RING_PACKED"])";
  const std::string packed =
      base + R"(}, "virtio": {"features": ["MRG_RXBUF", "VERSION_1", "RING_PACKED", "RING_EVENT_IDX"]}})";
  const std::string p = error_of(packed, {host_all});
  EXPECT_NE(p.find("virtio_packed_should_notify"), std::string::npos) << p;
  EXPECT_NE(p.find("virtio.features_remove=RING_PACKED,RING_EVENT_IDX runs it"), std::string::npos) << p;
  EXPECT_EQ(error_of(packed, {host_all, "virtio.features_remove=RING_PACKED,RING_EVENT_IDX"}), "");
  // Off, every combination runs as before.
  EXPECT_EQ(error_of(packed, {host_all, "host.notify_on_empty=false"}), "");
}

TEST(Registries, EveryPluginAndParameterIsDescribedWithUnitDefaultAndSource) {
  for (const auto* p : Registry<PolicyInfo>::instance().all()) EXPECT_FALSE(p->description.empty()) << p->name;
  for (const auto* t : Registry<TrafficInfo>::instance().all()) EXPECT_FALSE(t->description.empty()) << t->name;
  for (const auto* w : Registry<WriterInfo>::instance().all()) EXPECT_FALSE(w->description.empty()) << w->name;
  for (const ParamSpec* s : param_table().all()) {
    EXPECT_FALSE(s->source.empty()) << s->key;
    EXPECT_FALSE(s->description.empty()) << s->key;
    EXPECT_TRUE(s->validate(s->default_value).empty() || s->required) << s->key << ": default is invalid";
    if (s->type == ParamType::Number || s->type == ParamType::Integer) {
      const bool unitless_ok = s->key == "seed" || s->key == "schema_version" || s->key.ends_with(".order");
      EXPECT_TRUE(!s->unit.empty() || unitless_ok) << s->key << " has no unit";
    }
  }
}

TEST(Params, NaturalOrderSortsNumberedColumnsByValue) {
  EXPECT_TRUE(natural_less("buffers_per_packet.2", "buffers_per_packet.10"));
  EXPECT_FALSE(natural_less("buffers_per_packet.10", "buffers_per_packet.2"));
  EXPECT_TRUE(natural_less("a.b", "a.c"));
  EXPECT_FALSE(natural_less("x", "x"));
}

// Natural order by its definition, written as tokens (not as the library's
// character loop): a string is a sequence of digit runs and single other
// characters; two runs compare by value (leading zeros dropped: length,
// then digits), anything else by its first character; a string that runs
// out first comes first.
bool natural_less_by_definition(const std::string& a, const std::string& b) {
  struct Token {
    bool number;
    std::string text;   // as written
    std::string value;  // a number's digits without leading zeros
  };
  auto tokens = [](const std::string& s) {
    std::vector<Token> out;
    for (size_t i = 0; i < s.size();) {
      size_t end = i;
      while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
      if (end == i) {
        out.push_back({false, s.substr(i, 1), ""});
        ++i;
        continue;
      }
      const std::string run = s.substr(i, end - i);
      const size_t nonzero = std::min(run.find_first_not_of('0'), run.size() - 1);
      out.push_back({true, run, run.substr(nonzero)});
      i = end;
    }
    return out;
  };
  const std::vector<Token> ta = tokens(a), tb = tokens(b);
  for (size_t k = 0; k < ta.size() && k < tb.size(); ++k) {
    const Token &x = ta[k], &y = tb[k];
    if (x.number && y.number) {
      if (x.value.size() != y.value.size()) return x.value.size() < y.value.size();
      if (x.value != y.value) return x.value < y.value;
    } else if (x.text[0] != y.text[0]) {
      return x.text[0] < y.text[0];
    }
  }
  return ta.size() < tb.size();
}

TEST(Params, NaturalOrderAgreesWithItsDefinition) {
  // Strings from a small alphabet, so that common prefixes, digit runs that
  // straddle the first difference, leading zeros and ends meet often.
  const std::string alphabet = "0019.a-/:";
  Rng rng(7, "natural_less");
  auto make = [&](const std::string& from) {
    std::string s = from.substr(0, rng.uniform_int(0, from.size()));
    const uint64_t extra = rng.uniform_int(0, 5);
    for (uint64_t k = 0; k < extra; ++k) s += alphabet[rng.uniform_int(0, alphabet.size() - 1)];
    return s;
  };
  for (int n = 0; n < 200000; ++n) {
    const std::string a = make("guests.vm-006.queues.10.ring");
    const std::string b = n % 2 ? make(a) : make("guests.vm-06.queues.1.ring");
    ASSERT_EQ(natural_less(a, b), natural_less_by_definition(a, b)) << '"' << a << "\" vs \"" << b << '"';
    ASSERT_EQ(natural_less(b, a), natural_less_by_definition(b, a)) << '"' << b << "\" vs \"" << a << '"';
  }
  EXPECT_FALSE(natural_less("x.01", "x.1"));  // the same number: neither comes first
  EXPECT_FALSE(natural_less("x.1", "x.01"));
  EXPECT_TRUE(natural_less("x1", "x1a"));
  EXPECT_TRUE(natural_less("x12", "x1a") == false && natural_less("x1a", "x12"));
}

// The columns by their definition: every key of every row, in natural
// order, one column per group of equal keys, spelled as the group's first
// to appear (rows in order, keys in row order).
std::vector<std::string> natural_columns_by_definition(
    const std::vector<std::vector<std::pair<std::string, std::string>>>& rows) {
  std::vector<std::string> all;
  for (const auto& row : rows)
    for (const auto& kv : row) all.push_back(kv.first);
  std::vector<std::string> columns;
  for (size_t k = 0; k < all.size(); ++k) {
    bool seen = false;
    for (size_t e = 0; e < k && !seen; ++e) seen = !natural_less(all[e], all[k]) && !natural_less(all[k], all[e]);
    if (!seen) columns.push_back(all[k]);
  }
  std::stable_sort(columns.begin(), columns.end(), natural_less);
  return columns;
}

TEST(Params, CsvColumnsAreEachKeyOnceInNaturalOrderSpelledAsFirstSeen) {
  // Rows that repeat their keys, with the same numbers spelled with and
  // without leading zeros, in different orders.
  const std::vector<std::string> names = {"q.1.ring", "q.01.ring", "q.10.ring", "q.2", "q.002", "a", "b.3", "b.03"};
  Rng rng(11, "natural_columns");
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::vector<std::pair<std::string, std::string>>> rows(rng.uniform_int(0, 6));
    for (auto& row : rows) {
      const uint64_t n = rng.uniform_int(0, 6);
      for (uint64_t k = 0; k < n; ++k) row.emplace_back(names[rng.uniform_int(0, names.size() - 1)], "v");
    }
    ASSERT_EQ(natural_columns(rows), natural_columns_by_definition(rows)) << "trial " << trial;
  }
  EXPECT_EQ(natural_columns({{{"q.01.ring", "x"}}, {{"q.1.ring", "y"}, {"a", "z"}}}),
            (std::vector<std::string>{"a", "q.01.ring"}));
}

TEST(Params, FlattenExceptLeavesOutOneTopLevelKeyAndWhatIsUnderIt) {
  const Json g = Json::parse(R"({"a": 1, "queues": {"0": {"x": 2}}, "b": {"queues": 3, "c": 0.5}})");
  Json without = g;
  without.erase("queues");
  EXPECT_EQ(flatten_except(g, "queues"), flatten(without));  // b.queues stays: only the top level's goes
  EXPECT_EQ(flatten_except(g, "queues").size(), 3u);
  EXPECT_EQ(flatten_except(Json(4), "queues"), flatten(Json(4)));
}

}  // namespace
}  // namespace vringsim

namespace vringsim {
namespace {

TEST_F(ScenarioFiles, TopologyKeysCanBeSetLikeAnyOther) {
  const std::string f = write(R"({"name": "x", "topology": {"guests": {"vm": {"count": 2}}}})");
  const Scenario s = load_scenario(f, {"topology.guests.vm.count=8", "topology.cores.host.count=4"});
  EXPECT_EQ(s.topology.guests.size(), 8u);
  EXPECT_EQ(s.topology.cores.at(0).count, 4u);
  EXPECT_EQ(s.config.json()["topology"]["guests"]["vm"]["count"], 8);  // echoed in summary.json's config
  EXPECT_EQ(error_of(R"({"name": "x", "topology": {"guests": {"vm": {}}}})", {"topology.guests.vm.count=0"}),
            ": /topology/guests/vm/count: 0 is out of range [1, 4096]");
  EXPECT_EQ(error_of(R"({"name": "x", "topology": "none"})", {"topology.guests.vm.count=2"}),
            "--set topology.guests.vm.count=2: /topology/guests/vm/count: cannot set it: a key on the way is not an "
            "object");
}

TEST_F(ScenarioFiles, ASourcesTrafficOverridesAreCheckedWhereTheyAre) {
  const std::string base = R"({"name": "x", "traffic": {"kind": "synthetic"}, "topology": {"sources": {"a": {}, "b": )";
  EXPECT_EQ(error_of(base + R"({"traffic": {"rate_gbbs": 2}}}}})"),
            ": /topology/sources/b/traffic/rate_gbbs: unknown key (did you mean /traffic/rate_gbps?)");
  const Scenario s = load_scenario(write(base + R"({"traffic": {"rate_gbps": 2}}}}})"));
  EXPECT_EQ(s.topology.sources.at(1).config.number("traffic.rate_gbps"), 2.0);
  EXPECT_EQ(s.topology.sources.at(0).config.number("traffic.rate_gbps"), s.config.number("traffic.rate_gbps"));
}

TEST_F(ScenarioFiles, AClosedLoopSenderDrivesOneQueue) {
  EXPECT_EQ(error_of(R"({"name": "x", "traffic": {"kind": "tcp", "arrival": "trace"},
                          "topology": {"guests": {"vm": {"queues": 2}}}})"),
            ": /traffic/kind: closed-loop traffic (\"tcp\") drives one receive queue from one source; this topology "
            "has 2 queues and 1 source(s)");
  EXPECT_EQ(error_of(R"({"name": "x", "traffic": {"kind": "tcp", "arrival": "trace"},
                          "topology": {"guests": {"vm": {}}}})"),
            "");
}

}  // namespace
}  // namespace vringsim

namespace vringsim {
namespace {

TEST(Suggestions, EditDistanceIsExactWithinItsLimitAndStopsBeyondIt) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting", 3), 3u);
  EXPECT_GT(edit_distance("kitten", "sitting", 2), 2u);  // "more than 2"
  EXPECT_EQ(edit_distance("kitten", "sitting", 0), 1u);  // the first row already exceeds 0: stops there
  EXPECT_GT(edit_distance("", "abc", 1), 1u);
  EXPECT_EQ(edit_distance("ring.size", "ring.size", 0), 0u);
  EXPECT_GT(edit_distance("abcdef", "uvwxyz", 3), 3u);  // no common character: refused before the table
  EXPECT_EQ(edit_distance(std::string(200, 'a'), std::string(199, 'a') + "b"), 1u);  // past the stack rows
}

TEST(Suggestions, EditDistanceMatchesTheFullTableOnRandomStrings) {
  // The shortcuts (length difference, unmatched characters, rows on the
  // stack) give the full table's answer whenever it is within the limit.
  auto reference = [](const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
      for (size_t j = 1; j <= b.size(); ++j)
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    return d[a.size()][b.size()];
  };
  std::mt19937_64 rng(35);
  auto random_string = [&rng] {
    std::string s(rng() % 12, ' ');
    for (char& c : s) c = static_cast<char>('a' + rng() % 4);
    return s;
  };
  for (int n = 0; n < 5000; ++n) {
    const std::string a = random_string(), b = random_string();
    const size_t want = reference(a, b), limit = rng() % 8;
    EXPECT_EQ(edit_distance(a, b), want) << a << " " << b;
    if (want <= limit)
      EXPECT_EQ(edit_distance(a, b, limit), want) << a << " " << b << " " << limit;
    else
      EXPECT_GT(edit_distance(a, b, limit), limit) << a << " " << b << " " << limit;
  }
}

TEST(Suggestions, TheNearestDeclaredKeyOrSectionIsSuggested) {
  EXPECT_EQ(param_table().nearest("ring.sise"), "ring.size");
  EXPECT_EQ(param_table().nearest("rin"), "ring");
  EXPECT_EQ(param_table().nearest("policy.nmae"), "policy.name");
  EXPECT_EQ(param_table().nearest("completely.unrelated.thing"), "");
}

TEST(Params, TheHostBurstIsATurnOnSharedCoresNotAGranularityWithoutEffect) {
  // On shared cores a backend holds its core for one burst:
  // scenarios/capacity/8g-1q-4c-max-buffer.json delivers 7.8898 Gb/s at 1
  // and 7.8912 at 64.
  const ParamSpec* b = param_table().find("host.burst_packets");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->description.find("identical for any value"), std::string::npos) << b->description;
  EXPECT_NE(b->description.find("shared"), std::string::npos) << b->description;
}

}  // namespace
}  // namespace vringsim

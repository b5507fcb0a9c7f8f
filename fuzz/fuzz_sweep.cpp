// libFuzzer target: sweep files (their base is a valid scenario beside
// them). Any bytes: a sweep or an InputError.
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz/fuzz_file_common.hpp"
#include "fuzz/json_mutator.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/sweep.hpp"

namespace {
/// Every point of a sweep is a scenario load: at the documented 100,000
/// points one input took 90 s under ASan, and a 10-minute run slowed from
/// 4,800 to 181 inputs a second. At 1,000 points, the sweeps of hundreds of
/// points took 92 % of the time of replaying the grown corpus, each point
/// the same load as the one before it. 16 points still reach every branch
/// of the expansion and its checks: the point limit and one past it (both
/// in the dictionary), the run limit (runs stay at 10,000: 16 points of
/// 1,000 replications pass it), equal points merged, and more bad points
/// than the ten a refusal lists (validate_points in sim/core/sweep.cpp).
constexpr vringsim::SweepLimits kLimits{16, 10000};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vringsim;
  static const bool base_written = [] {
    std::ofstream(fuzz::work_dir() + "/base.json") << R"({"name": "b", "stop": {"time_s": 0.01}, "measure": {"warmup_s": 0.001}})";
    return true;
  }();
  (void)base_written;
  // The input is handed over as text, as if read from this file in the work
  // directory (errors name it, a "base" resolves beside it): writing it there
  // and reading it back was 14 % of the fuzzer's time, and reading a file is
  // the scenario target's and every file base's. The file is never written,
  // so a base naming it is a missing file.
  static const std::string f = fuzz::work_dir() + "/input.sweep.json";
  try {
    (void)load_sweep_text(f, std::string(reinterpret_cast<const char*>(data), size), {}, kLimits);
  } catch (const InputError& e) {
    static const std::string not_json = f + ": /: invalid JSON";
    // The message without its hint (what() would work out a "did you mean").
    if (std::string_view(e.std::runtime_error::what()).starts_with(not_json)) fuzz::note_not_json(data, size);
  }
  return 0;
}

namespace {

/// A sweep's own keys, axes over declared keys, and an inline base under /base.
std::vector<vringsim::fuzz::KeyValues> sweep_dictionary() {
  using vringsim::Json;
  using vringsim::fuzz::KeyValues;
  std::vector<KeyValues> d = {
      {"/combine", {"grid", "zip", "random", "", 1}},
      {"/samples", {0, 1, kLimits.points, kLimits.points + 1, -1, 0.5}},
      {"/replications", {0, 1, 10, 11, 1000, 100001, -1}},
      {"/seed", {0, -1, 18446744073709551615ull, "1", 1.5}},
      {"/timeout_s", {0, -1, 1e308, 0.001}},
      {"/base", {"base.json", vringsim::fuzz::work_dir() + "/base.json", "", "/dev/zero", "/tmp", Json::object()}},
      {"/name", {"", "a/b", "..", std::string(300, 'n')}},
  };
  KeyValues axes{"/axes", {}};
  for (const vringsim::ParamSpec* p : vringsim::param_table().all()) {
    Json values = Json::array({p->default_value});
    if (p->min) values.push_back(*p->min);
    if (p->max) values.push_back(*p->max + 1);
    axes.values.push_back(Json::array({{{"key", p->key}, {"values", values}}}));
    axes.values.push_back(Json::array({{{"key", p->key}, {"min", p->min.value_or(0)}, {"max", p->max.value_or(1)},
                                        {"log", true}, {"integer", true}}}));
  }
  axes.values.push_back(Json::array({{{"key", "seed"}, {"values", {1, 2}}}}));
  d.push_back(std::move(axes));
  for (auto kv : vringsim::fuzz::dictionary_from_params()) {
    kv.pointer = "/base" + kv.pointer;
    d.push_back(std::move(kv));
  }
  return d;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  static const std::string dict = vringsim::fuzz::dictionary_text(sweep_dictionary());
  return vringsim::fuzz::mutate_json(data, size, max_size, seed, dict);
}

// libFuzzer target: the CSV trace reader, through `trace-info`'s describe
// and the csv kind's load-time validation. Any bytes: figures or an InputError.
#include "fuzz/fuzz_file_common.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/traffic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vringsim;
  const std::string f = fuzz::input_file(data, size, ".csv");
  const TrafficInfo* csv = Registry<TrafficInfo>::instance().find("csv");
  try {
    (void)csv->describe(f);
  } catch (const InputError&) {
  }
  try {
    Json doc = {{"name", "f"}, {"traffic", {{"kind", "csv"}, {"csv", {{"file", f}}}}}};
    (void)load_scenario_doc(doc, "fuzz.json", "/");
  } catch (const InputError&) {
  }
  return 0;
}

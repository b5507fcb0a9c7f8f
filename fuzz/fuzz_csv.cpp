// libFuzzer target: the CSV trace reader, as `trace-info` describes a file
// and as a scenario of traffic kind csv uses it: the load-time validation,
// then the source a run reads, to its end (one pass: a second replays the
// same bytes through the same reader). Any bytes: figures or an InputError.
//
// The scenario around the file is loaded once, not per input: a scenario
// load (every declared parameter resolved, the topology built) cost more
// than reading the trace and told the fuzzer nothing about the reader.
#include "fuzz/fuzz_file_common.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/traffic.hpp"

namespace {

using namespace vringsim;

/// A scenario replaying the input file: loaded from a valid trace once.
const Scenario& scenario(const std::string& file) {
  static const Scenario s = [&] {
    const std::string valid = "len_bytes,time_s\n1514,0\n60,0.000001\n";
    (void)fuzz::input_file(reinterpret_cast<const uint8_t*>(valid.data()), valid.size(), ".csv");
    const Json doc = {{"name", "f"},
                      {"traffic", {{"kind", "csv"}, {"arrival", "trace"}, {"csv", {{"file", file}}}}}};
    return load_scenario_doc(doc, "fuzz.json", "/");
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TrafficInfo* csv = Registry<TrafficInfo>::instance().find("csv");
  static const std::string file = fuzz::input_file(nullptr, 0, ".csv");
  static const TrafficContext ctx{scenario(file).config, "traffic.csv.", 1, "/"};
  (void)fuzz::input_file(data, size, ".csv");
  try {
    (void)csv->describe(file);
  } catch (const InputError&) {
  }
  try {
    csv->validate(ctx);  // what a scenario load runs
    const auto source = csv->create(ctx);
    while (const auto frame = source->next())
      if (frame->len_bytes == 0 || frame->len_bytes > kMaxTraceFrameBytes) __builtin_trap();
    (void)source->summary(0);
  } catch (const InputError&) {
  }
  return 0;
}

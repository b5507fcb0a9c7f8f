// libFuzzer target: sweep files (their base is a valid scenario beside
// them). Any bytes: a sweep or an InputError.
#include <fstream>

#include "fuzz/fuzz_file_common.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vringsim;
  static const bool base_written = [] {
    std::ofstream("/tmp/base.json") << R"({"name": "b", "stop": {"time_s": 0.01}, "measure": {"warmup_s": 0.001}})";
    return true;
  }();
  (void)base_written;
  const std::string f = fuzz::input_file(data, size, ".sweep.json");
  try {
    (void)load_sweep(f);
  } catch (const InputError&) {
  }
  return 0;
}

// libFuzzer target: scenario documents. Any bytes must give a loaded
// scenario or an InputError, never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/json_mutator.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vringsim;
  try {
    // The path every scenario file takes: parse, then check and resolve
    // (the document moved in, as load_scenario does: no copy of it).
    (void)load_scenario_doc(parse_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json"),
                            "fuzz.json", "/nonexistent");
  } catch (const InputError& e) {
    // The message without its hint (what() would work out a "did you mean").
    if (std::string_view(e.std::runtime_error::what()).starts_with("fuzz.json: /: invalid JSON"))
      fuzz::note_not_json(data, size);
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  static const std::string dict = vringsim::fuzz::dictionary_text(vringsim::fuzz::dictionary_from_params());
  return vringsim::fuzz::mutate_json(data, size, max_size, seed, dict);
}

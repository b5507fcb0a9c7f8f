// A structure-aware mutator for the JSON fuzz targets (libFuzzer's
// LLVMFuzzerCustomMutator): an input that parses is edited as a tree, with
// the keys and values the checks care about, and written back; one that does
// not parse, and one edit in four, get libFuzzer's byte mutations. Byte
// mutations alone rarely keep a document valid long enough to reach the
// checks behind the parser, and never build deep or long values.
//
// The dictionary is the parameter table itself (every declared key, its
// range ends, one past them, its choices), so it never goes stale.
//
// The mutator itself is fuzz/json_mutator.cpp, built without coverage
// (fuzz/coverage-ignorelist.txt) and on a JSON type of its own: it parsed
// and printed each input once more with every comparison traced, a quarter
// of each run, and its edges are no finding of the target's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/params.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim::fuzz {

/// A key an input may set, with values worth trying for it.
struct KeyValues {
  std::string pointer;  ///< "/ring/size"
  std::vector<Json> values;
};

/// Keys and values from the declared parameters, plus `extra` (a sweep's own keys).
inline std::vector<KeyValues> dictionary_from_params(const std::vector<KeyValues>& extra = {}) {
  std::vector<KeyValues> d = extra;
  for (const ParamSpec* p : param_table().all()) {
    KeyValues kv{key_to_pointer(p->key), {p->default_value}};
    for (const auto& bound : {p->min, p->max})
      if (bound) {
        kv.values.emplace_back(*bound);
        kv.values.emplace_back(*bound - 1);
        kv.values.emplace_back(*bound + 1);
        kv.values.emplace_back(*bound * 2);
      }
    for (const auto& c : p->choices) kv.values.emplace_back(c);
    d.push_back(std::move(kv));
  }
  return d;
}

/// The dictionary as the mutator reads it: JSON text, [[pointer, [values...]], ...]
/// (the mutator's own translation unit holds no vringsim::Json).
inline std::string dictionary_text(const std::vector<KeyValues>& dict) {
  Json out = Json::array();
  for (const KeyValues& kv : dict) out.push_back(Json::array({kv.pointer, kv.values}));
  return out.dump();
}

/// Tells the mutator that the target's parser refused `data` as JSON syntax
/// ("invalid JSON: ..."): a mutation that starts from those bytes, the next
/// in libFuzzer's run of mutations, then knows that its own parse of them
/// (the same nlohmann parser) would fail, and goes to the byte mutations
/// without it. Most byte mutations break the syntax, and parsing them again
/// was most of the mutator's parsing.
void note_not_json(const uint8_t* data, size_t size);

/// The body of LLVMFuzzerCustomMutator for a JSON target; `dictionary` is
/// dictionary_text()'s, the same string (it is read once) on every call.
size_t mutate_json(uint8_t* data, size_t size, size_t max_size, unsigned seed, const std::string& dictionary);

}  // namespace vringsim::fuzz

// A structure-aware mutator for the JSON fuzz targets (libFuzzer's
// LLVMFuzzerCustomMutator): an input that parses is edited as a tree, with
// the keys and values the checks care about, and written back; one that does
// not parse, and one edit in four, get libFuzzer's byte mutations. Byte
// mutations alone rarely keep a document valid long enough to reach the
// checks behind the parser, and never build deep or long values.
//
// The dictionary is the parameter table itself (every declared key, its
// range ends, one past them, its choices), so it never goes stale.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sim/core/params.hpp"
#include "sim/core/scenario.hpp"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

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

/// Values of every kind, including the ones that broke parsers and checks before.
inline Json odd_value(std::minstd_rand& rng) {
  switch (rng() % 16) {
    case 0: return nullptr;
    case 1: return true;
    case 2: return 0;
    case 3: return -1;
    case 4: return 18446744073709551615ull;
    case 5: return -9223372036854775807ll - 1;
    case 6: return 1e308;
    case 7: return -0.0;
    case 8: return 0.5;
    case 9: return "";
    case 10: return std::string(1 + rng() % 4096, 'a');  // long strings
    case 11: return Json::array();
    case 12: return Json::object();
    case 13: return "0x10";
    case 14: return std::string("a\0b", 3);
    default: return static_cast<int64_t>(rng() % 100000);
  }
}

/// Every node of `doc` (pointers into it), parents before children.
inline void collect(Json& node, std::vector<Json*>& out) {
  out.push_back(&node);
  if (node.is_structured())
    for (auto& child : node) collect(child, out);
}

/// One tree edit; false if it could not apply.
inline bool edit(Json& doc, std::minstd_rand& rng, const std::vector<KeyValues>& dict) {
  std::vector<Json*> nodes;
  collect(doc, nodes);
  Json& node = *nodes[rng() % nodes.size()];
  switch (rng() % 8) {
    case 0:
    case 1: {  // a declared key set to one of its interesting values
      if (dict.empty() || !doc.is_object()) return false;
      const KeyValues& kv = dict[rng() % dict.size()];
      try {
        doc[Json::json_pointer(kv.pointer)] =
            kv.values.empty() || rng() % 4 == 0 ? odd_value(rng) : kv.values[rng() % kv.values.size()];
      } catch (const Json::exception&) {
        return false;  // a parent on the path is not an object
      }
      return true;
    }
    case 2:  // any node to a value of another kind
      node = odd_value(rng);
      return true;
    case 3: {  // remove a member or an element
      if (!node.is_structured() || node.empty()) return false;
      if (node.is_object()) {
        auto it = node.begin();
        std::advance(it, static_cast<long>(rng() % node.size()));
        node.erase(it.key());
      } else {
        node.erase(rng() % node.size());
      }
      return true;
    }
    case 4: {  // nest a node deeper (past the depth limit now and then)
      const int levels = rng() % 8 == 0 ? 60 + static_cast<int>(rng() % 20) : 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < levels; ++i) node = rng() % 2 ? Json::array({node}) : Json{{"k", node}};
      return true;
    }
    case 5: {  // repeat an array's elements (long lists)
      if (!node.is_array() || node.empty()) return false;
      const Json copy = node;
      const size_t times = 1 + rng() % 64;
      for (size_t i = 0; i < times && node.size() < 100000; ++i)
        for (const auto& e : copy) node.push_back(e);
      return true;
    }
    case 6: {  // a member under a declared section's name or an unknown one
      if (!node.is_object()) return false;
      std::string key = dict.empty() ? "x" : dict[rng() % dict.size()].pointer;
      key = key.substr(key.rfind('/') + 1);
      if (rng() % 4 == 0) key += "x";  // a near miss: "did you mean"
      node[key] = odd_value(rng);
      return true;
    }
    default: {  // a number nudged
      if (!node.is_number()) return false;
      const double v = node.get<double>();
      if (rng() % 2 || !(std::abs(v) < 9007199254740992.0))  // beyond 2^53 (or NaN): no integer nudge
        node = -v;
      else
        node = static_cast<int64_t>(v) + static_cast<int64_t>(rng() % 3) - 1;
      return true;
    }
  }
}

/// The body of LLVMFuzzerCustomMutator for a JSON target.
inline size_t mutate_json(uint8_t* data, size_t size, size_t max_size, unsigned seed,
                          const std::vector<KeyValues>& dict) {
  std::minstd_rand rng(seed | 1u);
  if (rng() % 4 != 0) {
    Json doc = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded() && doc.is_structured()) {
      bool changed = false;
      for (unsigned i = 0, n = 1 + rng() % 3; i < n; ++i) changed = edit(doc, rng, dict) || changed;
      if (changed) {
        const std::string text = doc.dump(rng() % 2 ? -1 : 1);
        if (text.size() <= max_size) {
          std::memcpy(data, text.data(), text.size());
          return text.size();
        }
      }
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

}  // namespace vringsim::fuzz

// The structure-aware JSON mutator (fuzz/json_mutator.hpp says what it does).
//
// This file is not instrumented for coverage (fuzz/coverage-ignorelist.txt):
// the mutator runs between the target's runs, its edges are none of the
// target's, and tracing its comparisons cost as much as the target's own
// parse. It uses nlohmann::ordered_json, never vringsim::Json: an inline
// function of nlohmann::json compiled here would be one copy among those the
// linker may keep, and could take the coverage of the code under test with it.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fuzz/json_mutator.hpp"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace vringsim::fuzz {
namespace {

using MJson = nlohmann::ordered_json;

/// A dictionary entry, on the mutator's JSON type.
struct Entry {
  std::string pointer;
  std::vector<MJson> values;
};

/// dictionary_text()'s entries, read on the first call.
const std::vector<Entry>& entries(const std::string& text) {
  static const std::string* read_from = nullptr;
  static std::vector<Entry> out;
  if (read_from != &text) {
    out.clear();
    for (const MJson& e : MJson::parse(text)) out.push_back({e[0].get<std::string>(), e[1].get<std::vector<MJson>>()});
    read_from = &text;
  }
  return out;
}

/// Values of every kind, including the ones that broke parsers and checks before.
MJson odd_value(std::minstd_rand& rng) {
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
    case 11: return MJson::array();
    case 12: return MJson::object();
    case 13: return "0x10";
    case 14: return std::string("a\0b", 3);
    default: return static_cast<int64_t>(rng() % 100000);
  }
}

/// Every node of `doc` (pointers into it), parents before children.
void collect(MJson& node, std::vector<MJson*>& out) {
  out.push_back(&node);
  if (node.is_structured())
    for (auto& child : node) collect(child, out);
}

/// One tree edit; false if it could not apply.
bool edit(MJson& doc, std::minstd_rand& rng, const std::vector<Entry>& dict) {
  std::vector<MJson*> nodes;
  collect(doc, nodes);
  MJson& node = *nodes[rng() % nodes.size()];
  switch (rng() % 8) {
    case 0:
    case 1: {  // a declared key set to one of its interesting values
      if (dict.empty() || !doc.is_object()) return false;
      const Entry& kv = dict[rng() % dict.size()];
      try {
        doc[MJson::json_pointer(kv.pointer)] =
            kv.values.empty() || rng() % 4 == 0 ? odd_value(rng) : kv.values[rng() % kv.values.size()];
      } catch (const MJson::exception&) {
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
      for (int i = 0; i < levels; ++i) node = rng() % 2 ? MJson::array({node}) : MJson{{"k", node}};
      return true;
    }
    case 5: {  // repeat an array's elements (long lists)
      if (!node.is_array() || node.empty()) return false;
      const MJson copy = node;
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

/// The trees of the texts mutations start from. libFuzzer starts each run of
/// mutations from an input of its corpus, the same few hundred texts again
/// and again: parsing them was 11 % of the scenario target's time (perf,
/// 100,000 runs from the seeds), copying a kept tree costs far less. A text
/// is kept the second time it is seen (the first time, it is most likely a
/// byte mutation's result that will never come back), up to a budget of
/// text bytes, past which everything is dropped and kept anew. Texts that
/// do not parse are kept too (as a discarded value): they are not parsed
/// again to find that out.
class Trees {
 public:
  /// The tree of `text`: a copy of the kept one, else parsed.
  MJson get(std::string_view text) {
    if (const auto it = trees_.find(std::string(text)); it != trees_.end()) return it->second;
    MJson doc = MJson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!seen_.insert(std::hash<std::string_view>{}(text)).second) {
      if (bytes_ + text.size() > kBudgetBytes) {
        trees_.clear();
        bytes_ = 0;
      }
      trees_.emplace(std::string(text), doc);
      bytes_ += text.size();
    }
    if (seen_.size() > kMaxSeen) seen_.clear();
    return doc;
  }

 private:
  static constexpr size_t kBudgetBytes = size_t{4} << 20;  // the grown corpora are 200-400 KB
  static constexpr size_t kMaxSeen = 1 << 20;
  std::unordered_map<std::string, MJson> trees_;
  std::unordered_set<size_t> seen_;
  size_t bytes_ = 0;
};

/// The last input the target found not to be JSON (note_not_json).
std::string& not_json() {
  static std::string text;
  return text;
}

}  // namespace

void note_not_json(const uint8_t* data, size_t size) { not_json().assign(reinterpret_cast<const char*>(data), size); }

size_t mutate_json(uint8_t* data, size_t size, size_t max_size, unsigned seed, const std::string& dictionary) {
  // libFuzzer applies several mutations in a row, each to the last one's
  // result: the tree printed last time is kept, and an input that is that
  // text is not parsed again (parsing what was printed gives the same tree).
  static std::string last_text;
  static MJson last_doc;
  static Trees trees;
  const std::vector<Entry>& dict = entries(dictionary);
  std::minstd_rand rng(seed | 1u);
  if (rng() % 4 != 0) {
    const bool cached = size == last_text.size() && size > 0 && std::memcmp(data, last_text.data(), size) == 0;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    MJson doc = cached              ? std::move(last_doc)
                : input == not_json() ? MJson(MJson::value_t::discarded)
                                      : trees.get(input);
    last_text.clear();
    if (!doc.is_discarded() && doc.is_structured()) {
      bool changed = false;
      for (unsigned i = 0, n = 1 + rng() % 3; i < n; ++i) changed = edit(doc, rng, dict) || changed;
      if (changed) {
        std::string text = doc.dump(rng() % 2 ? -1 : 1);
        if (text.size() <= max_size) {
          std::memcpy(data, text.data(), text.size());
          last_text = std::move(text);
          last_doc = std::move(doc);
          return last_text.size();
        }
      }
    }
  }
  last_text.clear();
  return LLVMFuzzerMutate(data, size, max_size);
}

}  // namespace vringsim::fuzz

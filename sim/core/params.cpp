#include "sim/core/params.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/core/errors.hpp"

namespace vringsim {

ParamSpec ParamSpec::integer(std::string key, int64_t def, std::string unit) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Integer;
  p.default_value = def;
  p.unit = std::move(unit);
  return p;
}
ParamSpec ParamSpec::number(std::string key, double def, std::string unit) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Number;
  p.default_value = def;
  p.unit = std::move(unit);
  return p;
}
ParamSpec ParamSpec::boolean(std::string key, bool def) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Boolean;
  p.default_value = def;
  return p;
}
ParamSpec ParamSpec::string(std::string key, std::string def, std::vector<std::string> choices) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::String;
  p.default_value = std::move(def);
  p.choices = std::move(choices);
  return p;
}
ParamSpec ParamSpec::number_list(std::string key, std::vector<double> def, std::string unit) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::NumberList;
  p.default_value = def;
  p.unit = std::move(unit);
  return p;
}
ParamSpec ParamSpec::strings(std::string key, std::vector<std::string> def) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Strings;
  p.default_value = def;
  return p;
}
ParamSpec ParamSpec::names(std::string key) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Names;
  p.default_value = Json::array();
  return p;
}
ParamSpec ParamSpec::object(std::string key) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Object;
  p.default_value = Json::object();
  return p;
}
ParamSpec&& ParamSpec::range(std::optional<double> lo, std::optional<double> hi) && {
  min = lo;
  max = hi;
  return std::move(*this);
}
ParamSpec&& ParamSpec::integer_range(int64_t lo, int64_t hi) && {
  int_min = lo;
  int_max = hi;
  min = static_cast<double>(lo);
  max = static_cast<double>(hi);
  return std::move(*this);
}
ParamSpec&& ParamSpec::help(std::string text) && {
  description = std::move(text);
  return std::move(*this);
}
ParamSpec&& ParamSpec::from(std::string where) && {
  source = std::move(where);
  return std::move(*this);
}
ParamSpec&& ParamSpec::must(std::function<std::string(const Json&)> fn) && {
  check = std::move(fn);
  return std::move(*this);
}
ParamSpec&& ParamSpec::matching(std::string regex) && {
  pattern = std::move(regex);
  return std::move(*this);
}
ParamSpec&& ParamSpec::items_from(std::vector<std::string> names) && {
  item_choices = std::move(names);
  return std::move(*this);
}
ParamSpec&& ParamSpec::mandatory() && {
  required = true;
  return std::move(*this);
}
ParamSpec&& ParamSpec::edit_of(std::string key) && {
  edits = std::move(key);
  return std::move(*this);
}

std::string ParamSpec::type_name() const {
  switch (type) {
    case ParamType::Integer: return "integer";
    case ParamType::Number: return "number";
    case ParamType::Boolean: return "boolean";
    case ParamType::String: return "string";
    case ParamType::NumberList: return "list of numbers";
    case ParamType::Strings: return "list of strings";
    case ParamType::Names: return "list of names";
    case ParamType::Object: return "object";
  }
  return "?";
}

namespace {
std::string num_text(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}
}  // namespace

std::string ParamSpec::range_text() const {
  if (!choices.empty()) {
    std::string s;
    for (const auto& c : choices) s += (s.empty() ? "" : "|") + c;
    return s;
  }
  if (int_min && int_max) return fmt::format("{}..{}", *int_min, *int_max);
  if (min && max) return num_text(*min) + ".." + num_text(*max);
  if (min) return ">= " + num_text(*min);
  if (max) return "<= " + num_text(*max);
  return "";
}

std::string ParamSpec::validate(const Json& v) const {
  // `shown`: the value as written, for integers (a double prints 2^63 as
  // 9.223372036854776e+18, and reading 2^64-1 as int64 once showed "-1").
  auto in_range = [&](double x, const std::string& shown = "") -> std::string {
    if ((min && x < *min) || (max && x > *max))
      return fmt::format("{} is out of range ({})", shown.empty() ? num_text(x) : shown, range_text());
    return "";
  };
  std::string err;
  switch (type) {
    case ParamType::Integer:
      if (!v.is_number_integer()) return fmt::format("expected an integer, got {}", brief_json(v));
      if (int_min && int_max) {
        // Exact: as integers, never through a double.
        const bool in = v.is_number_unsigned()
                            ? *int_max >= 0 && v.get<uint64_t>() <= static_cast<uint64_t>(*int_max) &&
                                  (*int_min <= 0 || v.get<uint64_t>() >= static_cast<uint64_t>(*int_min))
                            : v.get<int64_t>() >= *int_min && v.get<int64_t>() <= *int_max;
        if (!in) return fmt::format("{} is out of range ({})", v.dump(), range_text());
        break;
      }
      err = v.is_number_unsigned() ? in_range(static_cast<double>(v.get<uint64_t>()), v.dump())
                                   : in_range(static_cast<double>(v.get<int64_t>()), v.dump());
      break;
    case ParamType::Number:
      if (!v.is_number()) return fmt::format("expected a number, got {}", brief_json(v));
      if (!std::isfinite(v.get<double>())) return "expected a finite number";
      err = in_range(v.get<double>());
      break;
    case ParamType::Boolean:
      if (!v.is_boolean()) return fmt::format("expected true or false, got {}", brief_json(v));
      break;
    case ParamType::String:
      if (!v.is_string()) return fmt::format("expected a string, got {}", brief_json(v));
      if (!choices.empty() && std::find(choices.begin(), choices.end(), v.get<std::string>()) == choices.end())
      {
        // A near miss (policy.name=mergable) gets the nearest choice.
        const std::string near =
            nearest_of(v.get_ref<const std::string&>(), std::set<std::string>(choices.begin(), choices.end()));
        return fmt::format("\"{}\" is not one of {}{}", brief(v.get_ref<const std::string&>()), range_text(),
                           near.empty() ? "" : fmt::format(" (did you mean {}?)", near));
      }
      break;
    case ParamType::Strings:
      if (!v.is_array()) return fmt::format("expected a list of strings, got {}", brief_json(v));
      for (size_t i = 0; i < v.size(); ++i)
        if (!v[i].is_string()) return fmt::format("element {}: expected a string, got {}", i, brief_json(v[i]));
      break;
    case ParamType::Names:
      if (!v.is_array()) return fmt::format("expected a list of names, got {}", brief_json(v));
      for (size_t i = 0; i < v.size(); ++i)
        if (!v[i].is_string()) return fmt::format("element {}: expected a name, got {}", i, brief_json(v[i]));
      break;
    case ParamType::Object:
      if (!v.is_object()) return fmt::format("expected an object, got {}", brief_json(v));
      break;
    case ParamType::NumberList:
      if (!v.is_array()) return fmt::format("expected a list of numbers, got {}", brief_json(v));
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_number()) return fmt::format("element {}: expected a number, got {}", i, v[i].dump());
        err = in_range(v[i].get<double>());
        if (!err.empty()) return fmt::format("element {}: {}", i, err);
      }
      break;
  }
  if (!err.empty()) return err;
  if (check) return check(v);
  return "";
}

void ParamTable::add(ParamSpec spec) {
  const std::string key = spec.key;
  if (specs_.count(key)) throw InvariantError("parameter declared twice: " + key);
  specs_.emplace(key, std::move(spec));
  for (size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', dot + 1))
    names_.insert(key.substr(0, dot));
  names_.insert(key);
}

const ParamSpec* ParamTable::find(std::string_view key) const {
  auto it = specs_.find(key);
  return it == specs_.end() ? nullptr : &it->second;
}

bool ParamTable::is_section(std::string_view prefix) const {
  const std::string p = std::string(prefix) + ".";
  auto it = specs_.lower_bound(p);
  return it != specs_.end() && it->first.compare(0, p.size(), p) == 0;
}

std::vector<const ParamSpec*> ParamTable::all() const {
  std::vector<const ParamSpec*> out;
  for (const auto& [k, v] : specs_) out.push_back(&v);
  return out;
}

std::string brief_json(const Json& value, size_t max) {
  // Nesting is bounded where JSON is parsed (kMaxJsonDepth), so dump() is safe.
  if (value.is_string()) return fmt::format("\"{}\"", brief(value.get_ref<const std::string&>(), max));
  return brief(value.dump(), max);
}

size_t edit_distance(std::string_view a, std::string_view b, size_t limit) {
  // Two lower bounds first, each linear: every "did you mean" compares the
  // key with hundreds of declared names and almost all are far from it (the
  // quadratic table for each was a tenth of a fuzzed scenario load).
  // Each character one string has beyond the other costs an insertion.
  if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return limit + 1;
  // The characters of `a` that `b` cannot match (as a multiset), and the
  // reverse: each costs at least one edit.
  if (limit < std::max(a.size(), b.size())) {
    std::array<uint32_t, 256> count{};
    for (const char c : b) ++count[static_cast<unsigned char>(c)];
    size_t unmatched_a = 0;
    for (const char c : a) {
      uint32_t& n = count[static_cast<unsigned char>(c)];
      if (n > 0)
        --n;
      else
        ++unmatched_a;
    }
    const size_t unmatched_b = b.size() - (a.size() - unmatched_a);
    if (std::max(unmatched_a, unmatched_b) > limit) return limit + 1;
  }
  // The distance is never above the longer length: a limit beyond it changes nothing.
  limit = std::min(limit, std::max(a.size(), b.size()));
  const size_t above = limit + 1;  // any value beyond the limit
  // Two rows of the table, on the stack for names of declared-key length.
  std::array<size_t, 2 * 128> small;
  std::vector<size_t> large;
  size_t* prev = small.data();
  size_t* cur = small.data() + 128;
  if (b.size() >= 128) {
    large.resize(2 * (b.size() + 1));
    prev = large.data();
    cur = large.data() + b.size() + 1;
  }
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = std::min(j, above);
  for (size_t i = 1; i <= a.size(); ++i) {
    // Only the cells within `limit` of the diagonal: a path through any
    // other costs more than the limit. The cells beside that band read as
    // `above`.
    const size_t lo = i > limit ? i - limit : 1, hi = std::min(b.size(), i + limit);
    cur[lo - 1] = lo == 1 ? std::min(i, above) : above;
    size_t row_min = cur[lo - 1];
    for (size_t j = lo; j <= hi; ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1), above});
      row_min = std::min(row_min, cur[j]);
    }
    if (hi < b.size()) cur[hi + 1] = above;
    if (row_min > limit) return above;  // every path through this row costs more already
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {
/// Only names within this edit distance of the key are suggested: at most a
/// third of it changed.
size_t suggestion_distance(std::string_view key) { return std::max<size_t>(2, key.size() / 3); }
/// No name can be within that distance if the lengths differ by more: skip
/// it without the quadratic edit distance (a 1 MB key took 41 s to refuse).
bool length_plausible(std::string_view key, std::string_view name) {
  const size_t diff = key.size() > name.size() ? key.size() - name.size() : name.size() - key.size();
  return diff <= suggestion_distance(key) && key.size() <= 1024;
}
}  // namespace

std::string nearest_of(std::string_view key, const std::set<std::string>& names) {
  // The first of the nearest names within the suggestion distance: once one
  // is found, only a nearer one counts, and the limit tightens.
  std::string_view best;
  size_t best_d = suggestion_distance(key) + 1;
  for (const auto& n : names) {
    if (!length_plausible(key, n)) continue;
    const size_t d = edit_distance(key, n, best_d - 1);
    if (d < best_d) {
      best_d = d, best = n;
      if (d == 0) break;
    }
  }
  return std::string(best);
}

std::string ParamTable::nearest(std::string_view key) const {
  // Every declared key and every section on the way to one, kept as they are
  // declared: not rebuilt and sorted for each unknown key.
  return nearest_of(key, names_);
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string key_to_pointer(std::string_view key) {
  std::string p;
  for (size_t start = 0;;) {
    const size_t dot = key.find('.', start);
    p += '/';
    p += escape_pointer_token(key.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return p;
    start = dot + 1;
  }
}

namespace {

/// The segment of a dotted key from `start` up to the next dot.
std::string_view segment(std::string_view key, size_t start, size_t& dot) {
  dot = key.find('.', start);
  return key.substr(start, dot == std::string_view::npos ? dot : dot - start);
}

}  // namespace

const Json* find_key(const Json& doc, std::string_view key) {
  const Json* node = &doc;
  for (size_t start = 0;;) {
    // Anything but an object on the way (an array takes an index token):
    // the pointer's own rules.
    if (!node->is_object()) {
      const Json::json_pointer ptr(key_to_pointer(key));
      return doc.contains(ptr) ? &doc.at(ptr) : nullptr;
    }
    size_t dot = 0;
    const auto it = node->find(segment(key, start, dot));
    if (it == node->end()) return nullptr;
    if (dot == std::string_view::npos) return &*it;
    node = &*it;
    start = dot + 1;
  }
}

void set_if_missing(Json& doc, std::string_view key, const Json& value) {
  Json* node = &doc;
  for (size_t start = 0;;) {
    if (node->is_null()) *node = Json::object();  // as the pointer's operator[] makes one
    if (!node->is_object()) {
      const Json::json_pointer ptr(key_to_pointer(key));
      if (!doc.contains(ptr)) doc[ptr] = value;
      return;
    }
    size_t dot = 0;
    const std::string_view name = segment(key, start, dot);
    auto it = node->find(name);
    if (dot == std::string_view::npos) {
      if (it == node->end()) node->emplace(std::string(name), value);
      return;
    }
    if (it == node->end()) it = node->emplace(std::string(name), Json()).first;
    node = &*it;
    start = dot + 1;
  }
}

std::string pointer_to_key(std::string_view pointer) {
  std::string k;
  for (size_t i = 1; i < pointer.size(); ++i) {
    if (pointer[i] == '/')
      k += '.';
    else if (pointer[i] == '~' && i + 1 < pointer.size()) {
      k += pointer[i + 1] == '0' ? '~' : '/';
      ++i;
    } else
      k += pointer[i];
  }
  return k;
}

}  // namespace vringsim

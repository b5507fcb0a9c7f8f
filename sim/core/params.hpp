// Parameters: each declared once (key, type, unit, default, valid range,
// source of the default, description), the way ns-3 declares attributes. From
// that one declaration come validation of scenario files and --set, the
// `vringsim params` listing, and the resolved configuration echoed in every
// report.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vringsim {

using Json = nlohmann::json;

/// Deepest nesting of lists and objects any JSON input may have (scenario,
/// sweep, calibration, --set values): scenarios need 5 or so; without a limit
/// a 100,000-level value crashed every recursive walk of it.
inline constexpr int kMaxJsonDepth = 64;

/// A JSON value quoted in an error: at most `max` characters of it, and its size.
std::string brief_json(const Json& value, size_t max = 80);

enum class ParamType { Integer, Number, Boolean, String, NumberList, Strings, Names, Object };

struct ParamSpec {
  std::string key;  ///< dotted path into the scenario, e.g. "ring.size"
  ParamType type = ParamType::Number;
  Json default_value;
  std::string unit;  ///< "entries", "bytes", "ns", "s", "Gb/s", "probability", "" ...
  std::optional<double> min;
  std::optional<double> max;
  /// An integer parameter's bounds, exact (integer_range): `min` and `max`
  /// hold them as doubles, which round above 2^53 (2^63 - 1 is 2^63 as a
  /// double, and a range of 0..9.2e18 once refused seeds the command line
  /// took).
  std::optional<int64_t> int_min;
  std::optional<int64_t> int_max;
  std::vector<std::string> choices;  ///< for strings: the allowed values (empty: any)
  /// For strings: the pattern a value matches (an ECMAScript regex, for the
  /// JSON Schema; the check itself is `check`'s), "" if any.
  std::string pattern;
  /// For string lists: the allowed elements (empty: any), for the JSON Schema.
  std::vector<std::string> item_choices;
  std::string description;
  std::string source;  ///< where the default comes from
  /// Extra check on a value that passed the type and range checks; returns an
  /// error message, or "" if the value is fine.
  std::function<std::string(const Json&)> check;
  bool required = false;
  /// Non-empty: the key this one edits (virtio.features_remove edits
  /// virtio.features). An edit is applied while the scenario loads and is not
  /// a setting of its own: the resolved configuration holds the edited key,
  /// not the edit, and no default is filled in for it.
  std::string edits;

  // Fluent builders, so a declaration reads as one sentence.
  static ParamSpec integer(std::string key, int64_t def, std::string unit);
  static ParamSpec number(std::string key, double def, std::string unit);
  static ParamSpec boolean(std::string key, bool def);
  static ParamSpec string(std::string key, std::string def, std::vector<std::string> choices = {});
  static ParamSpec number_list(std::string key, std::vector<double> def, std::string unit);
  /// A list of strings (feature names...).
  static ParamSpec strings(std::string key, std::vector<std::string> def);
  /// A list of node names (topology references).
  static ParamSpec names(std::string key);
  /// An object of keys checked elsewhere (a topology source's traffic overrides).
  static ParamSpec object(std::string key);
  ParamSpec&& range(std::optional<double> lo, std::optional<double> hi) &&;
  /// An integer parameter's range, checked and printed exactly.
  ParamSpec&& integer_range(int64_t lo, int64_t hi) &&;
  ParamSpec&& help(std::string text) &&;
  ParamSpec&& from(std::string where) &&;
  ParamSpec&& must(std::function<std::string(const Json&)> fn) &&;
  /// The pattern `must` checks, stated for the schema.
  ParamSpec&& matching(std::string regex) &&;
  /// The names a string list's elements are drawn from, stated for the schema.
  ParamSpec&& items_from(std::vector<std::string> names) &&;
  ParamSpec&& mandatory() &&;
  ParamSpec&& edit_of(std::string key) &&;

  /// "" if `value` is valid for this parameter, else what is wrong with it.
  std::string validate(const Json& value) const;
  std::string type_name() const;
  std::string range_text() const;
};

/// The declared parameters of the core and of every registered plug-in.
class ParamTable {
 public:
  void add(ParamSpec spec);
  const ParamSpec* find(std::string_view key) const;
  /// True if `prefix` names a section (an object holding parameters).
  bool is_section(std::string_view prefix) const;
  /// All parameters, sorted by key.
  std::vector<const ParamSpec*> all() const;
  /// The declared key or section name nearest to `key` (edit distance), for
  /// "did you mean" hints; "" if nothing is close.
  std::string nearest(std::string_view key) const;

 private:
  std::map<std::string, ParamSpec, std::less<>> specs_;
  std::set<std::string> names_;  ///< every key and every section on the way to one
};

/// RFC 6901: "~" becomes "~0" and "/" becomes "~1" in one pointer token.
std::string escape_pointer_token(std::string_view token);
/// Dotted key <-> JSON pointer ("ring.size" <-> "/ring/size").
std::string key_to_pointer(std::string_view key);
std::string pointer_to_key(std::string_view pointer);

/// The value at a dotted key ("ring.size") in `doc`, or nullptr: the same
/// answer as `doc.contains(json_pointer(key_to_pointer(key)))` then `at`,
/// without building a pointer (a scenario load looks up every declared key
/// several times; building pointers was a third of its time).
const Json* find_key(const Json& doc, std::string_view key);
/// Sets `doc` at a dotted key to `value` unless a value is there already (as
/// `if (!doc.contains(p)) doc[p] = value` with p the key's pointer).
void set_if_missing(Json& doc, std::string_view key, const Json& value);

/// Edit distance, for suggestions.
/// Once the distance is known to exceed `limit` (a row of the table all
/// above it) it stops and returns a value above `limit`, not the distance:
/// the suggestions only need near names.
size_t edit_distance(std::string_view a, std::string_view b, size_t limit = SIZE_MAX);
/// The name in `names` nearest to `key` (edit distance), or "" when even the
/// nearest changes more than a third of the key: a "did you mean" suggestion.
std::string nearest_of(std::string_view key, const std::set<std::string>& names);

}  // namespace vringsim

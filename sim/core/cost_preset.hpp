// Cost presets (`costs.preset`): a machine era's CPU costs, each with its
// source. The shipped ones are files in models/presets/, built into the
// program (one registered entry each, named by the file's stem); any other
// is a file a scenario names by its path (`vringsim calibrate --out` writes
// them). The core never names a preset: a driver profile may pick its era's
// (`driver.profile` sets `costs.preset`), and the scenario can name another.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/core/params.hpp"

namespace vringsim {

/// A shipped preset: its name, the repository file it was built from, and
/// that file's text (parsed and checked when a scenario uses it, and by the
/// tests for every entry).
struct CostPresetInfo {
  std::string name;  ///< the file's stem: "2008", "today-x86"
  std::string file;  ///< e.g. "models/presets/today-x86.json"
  std::string text;
};

/// What a run's preset gave it, for provenance: which preset, the keys it
/// filled (those the scenario did not set), and each value's source as the
/// preset file states it ("[calibrated] ...", "[estimate] ...").
struct CostPresetUse {
  std::string name;  ///< the preset's name ("" when the run names none)
  std::string file;  ///< where it was read: a repository path, or the file given
  std::set<std::string> filled;                ///< dotted keys the preset filled
  std::map<std::string, std::string> sources;  ///< dotted key -> the preset's source text
  bool empty() const { return name.empty(); }
};

/// True when a `costs.preset` value can only be a file (a path, or a name
/// ending in .json); a shipped preset's name wins over a file of that name.
bool names_preset_file(const std::string& value);

/// One value a preset sets: its dotted key ("costs.guest.per_packet_ns"),
/// its JSON pointer ("/costs/guest/per_packet_ns") and the value.
struct PresetValue {
  std::string key, pointer;
  Json value;
};
/// Every value of a preset's "costs" and "latency" objects, in that order.
std::vector<PresetValue> preset_values(const Json& preset);

/// Parses and checks a preset document: kind, costs/latency objects of known
/// keys with valid values, sources naming keys the preset sets. Errors are
/// InputErrors naming `file` and the JSON pointer.
void check_cost_preset(const Json& preset, const std::string& file);

}  // namespace vringsim

// Loading a scenario: read the JSON file, check every key against the
// declared parameters (unknown keys suggest the nearest), apply --set
// overrides, fill defaults, and check what needs several keys at once (a ring
// that holds at least one slot of the chosen policy). Every error is an
// InputError reading `SOURCE: /json/pointer: what is wrong`.
#pragma once

#include <string>
#include <vector>

#include "sim/core/config.hpp"
#include "sim/core/cost_preset.hpp"
#include "sim/core/params.hpp"
#include "sim/core/settings.hpp"
#include "sim/core/topology.hpp"
#include "sim/core/virtio.hpp"

namespace vringsim {

struct Scenario {
  std::string file;                    ///< path as given
  std::string base_dir;                ///< the file's directory: relative paths inside the scenario resolve here
  std::string name;                    ///< the scenario's `name`
  Config config;                       ///< resolved: every declared key has a value
  std::vector<std::string> overrides;  ///< the --set arguments applied, in order
  Topology topology;                   ///< validated; one guest with one queue when the file has none
  RunSettings run;                     ///< the run's own settings, from config; run.policy is the
                                       ///< policy that runs ("auto" resolved)
  VirtioSetup virtio;                  ///< the negotiated features and what they decide
  CostPresetUse cost_preset;           ///< the costs.preset applied, and what it filled
  FeatureEdit features_edit;           ///< virtio.features_remove/_add and the list they edited

  /// SHA-256 of the resolved configuration (canonical JSON), for a run's
  /// provenance. Computed when asked: checking a sweep loads every point,
  /// and printing and hashing each one's few hundred keys was a quarter of it.
  std::string sha256() const;
};

/// Every parameter: the core's and every registered plug-in's. Built once.
const ParamTable& param_table();

/// Reads and parses a JSON file; errors name the file, line and column.
/// Largest scenario, sweep or calibration file read (a 16 MiB scenario is
/// already absurd; /dev/zero is not a file at all).
inline constexpr uint64_t kMaxJsonFileBytes = uint64_t{16} << 20;
/// Reads a regular file of at most `max_bytes`; anything else (missing, a
/// directory, a device, a FIFO, too large) is an InputError naming the path.
/// `what` names what the file should have been ("a scenario file").
std::string read_input_file(const std::string& path, uint64_t max_bytes, std::string_view what);
/// The check read_input_file makes first, for files read by others (captures).
void require_input_file(const std::string& path, std::string_view what);
Json read_json_file(const std::string& path);
/// A summary.json that vringsim wrote (diff, runs.csv, sweeps, merge read
/// them): up to 1 GiB, as before per-guest figures left it (a 4,096 x 16
/// run's was 162 MB); "larger than 1024 MiB: not a summary vringsim writes".
inline constexpr uint64_t kMaxSummaryFileBytes = uint64_t{1} << 30;
Json read_summary_file(const std::string& path);
/// Parses JSON text; errors are InputErrors naming `source`.
Json parse_json(const std::string& text, const std::string& source);

/// Checks a scenario document (structure, types, ranges, unknown keys);
/// throws InputError naming `source` and the JSON pointer.
void check_document(const Json& doc, const std::string& source);

/// Applies `KEY=VALUE` (VALUE parsed as JSON, else taken as a string) to `doc`.
void apply_override(Json& doc, const std::string& assignment);

/// Fills every declared key missing from `doc` with its default.
Json resolve_defaults(const Json& doc);

/// The receive path a resolved config selects: the negotiated features and
/// the policy that runs (policy "auto" resolved by the receive mode).
struct ReceiveSetup {
  std::string policy;
  VirtioSetup virtio;
};
/// Throws InputError naming `source` and the pointer when the features and
/// the policy contradict each other (virtio.hpp negotiate()); `edit` is the
/// scenario's edit of its feature list, which the suggested fix replaces.
ReceiveSetup resolve_receive(const Config& cfg, const std::string& source, const FeatureEdit& edit = FeatureEdit{});

/// Checks that need several keys (and plug-ins' own checks) on a resolved
/// config; `base_dir` is where the scenario's relative file names resolve.
/// Returns the receive setup it checked (resolve_receive()'s).
ReceiveSetup check_resolved(const Config& cfg, const std::string& source, const std::string& base_dir,
                            const FeatureEdit& edit = FeatureEdit{});

/// All of the above: load `path`, apply `overrides`, validate, resolve.
/// `overrides[typed_from..]` were typed on the command line (--set): a file
/// they name (`costs.preset`) resolves against the working directory, as
/// every path a user types; one written in the scenario file, or given by
/// an override before `typed_from` (a sweep axis, a calibration point),
/// against the scenario file's directory.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {},
                       size_t typed_from = 0);
/// The same for a scenario document already in memory (a sweep's inline
/// base): `source` names it in errors, `base_dir` resolves its file names.
Scenario load_scenario_doc(Json doc, const std::string& source, const std::string& base_dir,
                           const std::vector<std::string>& overrides = {}, size_t typed_from = 0);
/// The same for a document check_document() has passed already: a sweep's
/// base, checked once for all its points (checking it again for each was
/// 6 % of loading a point).
Scenario load_checked_scenario_doc(Json doc, const std::string& source, const std::string& base_dir,
                                   const std::vector<std::string>& overrides = {}, size_t typed_from = 0);

std::string sha256_hex(const std::string& data);

}  // namespace vringsim

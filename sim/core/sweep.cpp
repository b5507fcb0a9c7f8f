#include "sim/core/sweep.hpp"

#include "sim/core/topology.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "sim/core/errors.hpp"
#include "sim/core/rng.hpp"

namespace vringsim {

namespace {

namespace fs = std::filesystem;


const std::set<std::string> kTopKeys = {"schema_version", "name",    "description",  "base", "combine",
                                        "axes",           "samples", "replications", "seed", "timeout_s"};
const std::set<std::string> kAxisKeys = {"key", "values", "min", "max", "log", "integer"};


struct Axis {
  std::string key;
  std::vector<Json> values;  ///< explicit values, or empty for a range
  double min = 0, max = 0;
  bool log = false, integer = false;
};

Axis parse_axis(const Json& a, const std::string& file, const std::string& ptr, bool random) {
  if (!a.is_object()) fail_input(file, ptr, "an axis must be an object with \"key\" and \"values\" (or \"min\"/\"max\")");
  for (auto it = a.begin(); it != a.end(); ++it)
    if (!kAxisKeys.count(it.key())) {
      const std::string near = nearest_of(it.key(), kAxisKeys);
      fail_input(file, ptr + "/" + it.key(),
           near.empty() ? std::string("unknown key") : fmt::format("unknown key (did you mean {}?)", near));
    }
  Axis ax;
  if (!a.contains("key") || !a["key"].is_string()) fail_input(file, ptr + "/key", "expected the dotted key of a parameter");
  ax.key = a["key"].get<std::string>();
  if (is_topology_key(ax.key)) {
    // The topology section is checked as a whole when each point's scenario
    // loads (validate and --dry-run load every point).
    if (!a.contains("values") || !a["values"].is_array() || a["values"].empty())
      fail_input(file, ptr + "/values", "a topology axis needs a non-empty list of \"values\"");
    for (const auto& v : a["values"]) ax.values.push_back(v);
    return ax;
  }
  const ParamSpec* spec = param_table().find(ax.key);
  if (!spec)
    fail_input(file, ptr + "/key", fmt::format("unknown key path \"{}\"", ax.key), [key = ax.key] {
      const std::string near = param_table().nearest(key);
      return near.empty() ? std::string() : fmt::format(" (did you mean {}?)", near);
    });
  if (ax.key == "seed") fail_input(file, ptr + "/key", "seeds are set per replication: use \"replications\" and \"seed\"");
  if (a.contains("values")) {
    if (!a["values"].is_array()) fail_input(file, ptr + "/values", "expected a list");
    if (a["values"].empty()) fail_input(file, ptr + "/values", "empty axis");
    for (size_t i = 0; i < a["values"].size(); ++i) {
      const std::string err = spec->validate(a["values"][i]);
      if (!err.empty()) fail_input(file, fmt::format("{}/values/{}", ptr, i), err);
      ax.values.push_back(a["values"][i]);
    }
  } else if (a.contains("min") || a.contains("max")) {
    if (!random) fail_input(file, ptr, "a range (min/max) needs \"combine\": \"random\"; give \"values\" for a grid or zip");
    if (!a.contains("min") || !a.contains("max") || !a["min"].is_number() || !a["max"].is_number())
      fail_input(file, ptr, "a range needs numeric \"min\" and \"max\"");
    ax.min = a["min"].get<double>();
    ax.max = a["max"].get<double>();
    // json::value() throws type_error on a wrong type (found by fuzz_sweep): check first.
    for (const char* flag : {"log", "integer"})
      if (a.contains(flag) && !a[flag].is_boolean()) fail_input(file, fmt::format("{}/{}", ptr, flag), "expected true or false");
    ax.log = a.value("log", false);
    ax.integer = a.value("integer", spec->type == ParamType::Integer);
    if (!(ax.min <= ax.max)) fail_input(file, ptr + "/min", "min is above max");
    if (ax.log && ax.min <= 0) fail_input(file, ptr + "/min", "a log range needs min > 0");
    for (double v : {ax.min, ax.max}) {
      const Json jv = ax.integer ? Json(static_cast<int64_t>(std::llround(v))) : Json(v);
      const std::string err = spec->validate(jv);
      if (!err.empty() && spec->type != ParamType::Integer) fail_input(file, ptr, "range end: " + err);
    }
  } else {
    fail_input(file, ptr, "an axis needs \"values\" (or \"min\" and \"max\" with combine = random)");
  }
  return ax;
}

std::string point_id(const Json& values) {
  // nlohmann keeps object keys sorted: the dump is canonical.
  return fmt::format("p{}", sha256_hex(values.dump()).substr(0, 12));
}

}  // namespace

uint64_t Sweep::seed_of(const SweepPoint& point, uint32_t rep) const {
  // Positive and below 2^62 so it survives JSON and every signed reader.
  return splitmix64(seed ^ name_hash(point.id) ^ splitmix64(rep + 1)) & ((uint64_t{1} << 62) - 1);
}

std::vector<std::string> Sweep::run_overrides(const SweepPoint& point, uint32_t rep) const {
  std::vector<std::string> o;
  for (auto it = point.values.begin(); it != point.values.end(); ++it) o.push_back(it.key() + "=" + it.value().dump());
  o.push_back(fmt::format("seed={}", seed_of(point, rep)));
  o.insert(o.end(), overrides.begin(), overrides.end());
  return o;
}

Scenario Sweep::scenario(const SweepPoint& point, uint32_t rep) const {
  // The axes and the seed come from the sweep file; the --set after them
  // were typed. The base passed check_document() when the sweep was read
  // (SweepReader::read, the only maker of a Sweep): each point checks what
  // its overrides change, not the base again.
  return load_checked_scenario_doc(base, base_source, base_dir, run_overrides(point, rep), point.values.size() + 1);
}

std::pair<uint32_t, uint32_t> parse_shard(const std::string& text) {
  unsigned k = 0, n = 0;
  char slash = 0;
  if (std::sscanf(text.c_str(), "%u%c%u", &k, &slash, &n) != 3 || slash != '/' || n == 0 || k < 1 || k > n ||
      text != fmt::format("{}/{}", k, n))
    throw InputError(fmt::format("--shard {}: expected K/N with 1 <= K <= N (shards are 1-based)", text));
  return {k, n};
}

namespace {

/// Reads a sweep file: its header, base scenario and numbers, its axes, then
/// the points they make (counted first), each checked before anything runs.
class SweepReader {
 public:
  SweepReader(const std::string& path, Json doc, const std::vector<std::string>& overrides, const SweepLimits& limits,
              bool override_axis)
      : path_(path), doc_(std::move(doc)), limits_(limits), override_axis_(override_axis) {
    sw_.file = path;
    sw_.overrides = overrides;
  }

  Sweep read() {
    header();
    base();
    numbers();
    axes();
    check_overridden_axes();
    count_points();
    // The base's own keys, types and ranges, once: each point's load checks
    // them before applying its axes, so a bad base made every point bad
    // (100,000 times the same error, seconds to find). What only a whole
    // point can say (a ring too small for the policy an axis picks) is
    // still each point's.
    check_document(sw_.base, sw_.base_source);
    check_topology_axes();
    make_points(overridden(point_values()));
    validate_points();
    identify();
    return std::move(sw_);
  }

 private:
  void header() {
    if (!doc_.is_object()) fail_input(path_, "", "a sweep must be a JSON object");
    for (auto it = doc_.begin(); it != doc_.end(); ++it)
      if (!kTopKeys.count(it.key())) {
        const std::string near = nearest_of(it.key(), kTopKeys);
        fail_input(path_, "/" + it.key(),
                   near.empty() ? std::string("unknown key") : fmt::format("unknown key (did you mean /{}?)", near));
      }
    for (const std::string& o : sw_.overrides)
      if (o.substr(0, o.find('=')) == "seed")
        // Each replication's seed is derived from the sweep's "seed": one --set
        // seed would run every replication alike while results.csv listed others.
        fail_input("--set " + o, "/seed", "a sweep sets each run's seed: change the sweep file's \"seed\" instead");
    if (doc_.contains("schema_version") && doc_["schema_version"] != 1)
      fail_input(path_, "/schema_version", "expected 1: this vringsim reads sweep files of version 1");
    if (!doc_.contains("name") || !doc_["name"].is_string() || doc_["name"].get<std::string>().empty())
      fail_input(path_, "/name", "required key is missing (a non-empty string)");
    sw_.name = doc_["name"];
  }

  void base() {
    const fs::path dir = fs::path(path_).parent_path();
    if (!doc_.contains("base"))
      fail_input(path_, "/base", "required key is missing (a scenario file or an inline scenario)");
    if (doc_["base"].is_string()) {
      const fs::path b = dir / doc_["base"].get<std::string>();
      if (const std::string problem = not_a_regular_file(b); !problem.empty())
        fail_input(path_, "/base", fmt::format("scenario file {} {}", brief(b.string()), problem));
      sw_.base = read_json_file(b.string());
      sw_.base_source = b.string();
      sw_.base_dir = b.parent_path().string();
    } else if (doc_["base"].is_object()) {
      sw_.base = doc_["base"];
      sw_.base_source = path_ + " (base)";
      sw_.base_dir = dir.string();
    } else {
      fail_input(path_, "/base", "expected a scenario file name or an inline scenario object");
    }
  }

  uint64_t get_uint(const char* key, uint64_t def, uint64_t lo, uint64_t hi) const {
    if (!doc_.contains(key)) return def;
    const Json& v = doc_[key];
    if (!v.is_number_integer() || v.get<int64_t>() < static_cast<int64_t>(lo) || v.get<uint64_t>() > hi)
      fail_input(path_, std::string("/") + key, fmt::format("expected an integer in {}..{}", lo, hi));
    return v.get<uint64_t>();
  }

  void numbers() {
    sw_.replications = static_cast<uint32_t>(get_uint("replications", 1, 1, 100000));
    sw_.seed = get_uint("seed", 1, 0, (uint64_t{1} << 62) - 1);
    if (doc_.contains("timeout_s")) {
      if (!doc_["timeout_s"].is_number() || doc_["timeout_s"].get<double>() < 0)
        fail_input(path_, "/timeout_s", "expected a number of seconds >= 0 (0: no timeout)");
      sw_.timeout_s = doc_["timeout_s"].get<double>();
    }
    if (doc_.contains("combine") && !doc_["combine"].is_string())
      fail_input(path_, "/combine", "expected a string: grid, zip or random");
    combine_ = doc_.value("combine", std::string("grid"));
    if (combine_ != "grid" && combine_ != "zip" && combine_ != "random")
      fail_input(path_, "/combine", fmt::format("\"{}\" is not one of grid|zip|random", brief(combine_)));
  }

  void axes() {
    if (!doc_.contains("axes") || !doc_["axes"].is_array() || doc_["axes"].empty())
      fail_input(path_, "/axes", "expected a non-empty list of axes");
    std::set<std::string> keys;
    for (size_t i = 0; i < doc_["axes"].size(); ++i) {
      axes_.push_back(parse_axis(doc_["axes"][i], path_, fmt::format("/axes/{}", i), combine_ == "random"));
      if (!keys.insert(axes_.back().key).second)
        fail_input(path_, fmt::format("/axes/{}/key", i), fmt::format("\"{}\" is already an axis", axes_.back().key));
    }
    if (combine_ == "zip")
      for (size_t i = 1; i < axes_.size(); ++i)
        if (axes_[i].values.size() != axes_[0].values.size())
          fail_input(path_, fmt::format("/axes/{}/values", i),
                     fmt::format("{} values, but /axes/0 has {}: zipped axes need the same length",
                                 axes_[i].values.size(), axes_[0].values.size()));
  }

  void count_points() const {
    // Count the points before making any: a grid of three 1,000-value axes is
    // 10^9 points (it once took 20 GB before failing).
    uint64_t count = 0;
    if (combine_ == "grid") {
      count = 1;
      for (const Axis& ax : axes_) count = count > limits_.points ? count : count * ax.values.size();
    } else if (combine_ == "zip") {
      count = axes_[0].values.size();
    } else if (doc_.contains("samples") && doc_["samples"].is_number_unsigned()) {
      count = doc_["samples"].get<uint64_t>();
    }
    if (count > limits_.points) {
      double product = 1;  // a grid's full count, for the message (exact up to 2^53)
      for (const Axis& ax : axes_) product *= static_cast<double>(ax.values.size());
      fail_input(path_, combine_ == "random" ? "/samples" : "/axes",
                 fmt::format("{:.0f} points: more than the {} a sweep may have (split it into several sweeps)",
                             combine_ == "grid" ? product : static_cast<double>(count), limits_.points));
    }
    if (count * sw_.replications > limits_.runs)
      fail_input(path_, "/replications",
                 fmt::format("{} points x {} replications: more than the {} runs a sweep may have", count,
                             sw_.replications, limits_.runs));
  }

  std::vector<Json> point_values() const {
    std::vector<Json> values;
    if (combine_ == "grid") {
      values.push_back(Json::object());
      for (const Axis& ax : axes_) {
        std::vector<Json> next;
        for (const Json& v : values)
          for (const Json& x : ax.values) {
            Json p = v;
            p[ax.key] = x;
            next.push_back(std::move(p));
          }
        values = std::move(next);
      }
    } else if (combine_ == "zip") {
      for (size_t j = 0; j < axes_[0].values.size(); ++j) {
        Json p = Json::object();
        for (const Axis& ax : axes_) p[ax.key] = ax.values[j];
        values.push_back(std::move(p));
      }
    } else {
      if (!doc_.contains("samples")) fail_input(path_, "/samples", "required with combine = random");
      const uint64_t n = get_uint("samples", 1, 1, limits_.points);
      Rng rng(sw_.seed, "sweep-samples");
      for (uint64_t j = 0; j < n; ++j) values.push_back(random_point(rng));
    }
    return values;
  }

  Json random_point(Rng& rng) const {
    Json p = Json::object();
    for (const Axis& ax : axes_) {
      if (!ax.values.empty()) {
        p[ax.key] = ax.values[rng.uniform_int(0, ax.values.size() - 1)];
        continue;
      }
      const double u = rng.uniform();
      double x = ax.log ? std::exp(std::log(ax.min) + u * (std::log(ax.max) - std::log(ax.min)))
                        : ax.min + u * (ax.max - ax.min);
      if (ax.integer)
        p[ax.key] = static_cast<int64_t>(std::llround(x));
      else
        p[ax.key] = x;
    }
    return p;
  }

  void check_topology_axes() const {
    // A topology axis's values are checked on their own first, so a bad one
    // is named where it is (the section is validated whole, not per key).
    for (size_t i = 0; i < axes_.size(); ++i) {
      if (!is_topology_key(axes_[i].key)) continue;
      for (size_t j = 0; j < axes_[i].values.size(); ++j) {
        try {
          (void)load_checked_scenario_doc(sw_.base, sw_.base_source, sw_.base_dir,
                                          {axes_[i].key + "=" + axes_[i].values[j].dump()}, 1);
        } catch (const InputError& e) {
          std::string what = e.what();
          if (what.starts_with(sw_.base_source + ": ")) what = what.substr(sw_.base_source.size() + 2);
          fail_input(path_, fmt::format("/axes/{}/values/{}", i, j), what);
        }
      }
    }
  }

  void make_points(std::vector<Json> values) {
    // Ids from their values; two equal points are one point.
    std::set<std::string> seen;
    for (auto& v : values) {
      SweepPoint pt{sw_.points.size(), point_id(v), v};
      if (seen.insert(pt.id).second) sw_.points.push_back(std::move(pt));
    }
  }

  void validate_points() const {
    // Every point before anything runs; name the first few bad ones and
    // count the rest (100,000 bad points made a message of megabytes).
    constexpr size_t kListed = 10;
    std::string errors;
    size_t bad = 0;
    for (const auto& pt : sw_.points) {
      try {
        (void)sw_.scenario(pt, 0);
      } catch (const InputError& e) {
        if (++bad <= kListed) errors += fmt::format("point {} {}: {}\n", pt.id, brief_json(pt.values, 200), e.what());
      }
    }
    if (!bad) return;
    if (bad > kListed) {
      errors += fmt::format("and {} more invalid points", bad - kListed);
      throw InputError(fmt::format("{}: {} of {} points are invalid (the first {}):\n{}", path_, bad,
                                   sw_.points.size(), kListed, errors));
    }
    errors.pop_back();
    throw InputError(fmt::format("{}: {} of {} points are invalid:\n{}", path_, bad, sw_.points.size(), errors));
  }

  void identify() {
    Json ident = {{"points", Json::array()},
                  {"replications", sw_.replications},
                  {"seed", sw_.seed},
                  {"base", sw_.base},
                  {"overrides", sw_.overrides}};
    for (const auto& pt : sw_.points) ident["points"].push_back(pt.values);
    sw_.sha256 = sha256_hex(ident.dump());
  }

  /// --set assignments that touch an axis: the axis's index and the --set.
  struct AxisOverride {
    size_t axis;
    std::string assignment;
  };

  static bool overlaps(const std::string& a, const std::string& b) {
    // The same key, or one inside the other (topology.guests.vm and
    // topology.guests.vm.count).
    return a == b || (a.size() > b.size() && a.starts_with(b) && a[b.size()] == '.') ||
           (b.size() > a.size() && b.starts_with(a) && b[a.size()] == '.');
  }

  void check_overridden_axes() {
    for (const std::string& o : sw_.overrides) {
      const std::string key = o.substr(0, o.find('='));
      for (size_t i = 0; i < axes_.size(); ++i) {
        if (!overlaps(key, axes_[i].key)) continue;
        if (!override_axis_)
          fail_input("--set " + o, key_to_pointer(key),
                     fmt::format("overrides the sweep's axis {} (/axes/{}): every point would run the --set value "
                                 "while sweep.json, results.csv, aggregate.csv and the table reported the axis's; "
                                 "remove the --set or the axis, or give --override-axis to run the --set value "
                                 "and report it",
                                 brief(axes_[i].key, 80), i));
        overridden_.push_back({i, o});
      }
    }
  }

  /// With --override-axis: each point's axis values as the runs will have
  /// them once the --set is applied (what every report then shows).
  std::vector<Json> overridden(std::vector<Json> values) {
    if (overridden_.empty()) return values;
    for (Json& p : values)
      for (const AxisOverride& ov : overridden_) {
        const std::string& key = axes_[ov.axis].key;
        Json doc = Json::object();
        apply_override(doc, key + "=" + p[key].dump());
        apply_override(doc, ov.assignment);
        const Json::json_pointer ptr(key_to_pointer(key));
        if (!doc.contains(ptr))
          fail_input("--set " + ov.assignment, key_to_pointer(key),
                     fmt::format("leaves the sweep's axis {} (/axes/{}) without a value", brief(key, 80), ov.axis));
        p[key] = doc.at(ptr);
      }
    for (const AxisOverride& ov : overridden_)
      sw_.axis_overrides.push_back(fmt::format(
          "sweep: --set {} overrides the axis {} (--override-axis): every point runs the --set value, and sweep.json, "
          "results.csv, aggregate.csv and the table report it",
          brief(ov.assignment, 80), brief(axes_[ov.axis].key, 80)));
    return values;
  }

  const std::string& path_;
  const Json doc_;
  const SweepLimits limits_;
  const bool override_axis_;
  std::vector<AxisOverride> overridden_;
  Sweep sw_;
  std::string combine_;
  std::vector<Axis> axes_;
};

}  // namespace

Sweep load_sweep(const std::string& path, const std::vector<std::string>& overrides, const SweepLimits& limits,
                 bool override_axis) {
  return SweepReader(path, read_json_file(path), overrides, limits, override_axis).read();
}

Sweep load_sweep_text(const std::string& path, const std::string& text, const std::vector<std::string>& overrides,
                      const SweepLimits& limits, bool override_axis) {
  return SweepReader(path, parse_json(text, path), overrides, limits, override_axis).read();
}

}  // namespace vringsim

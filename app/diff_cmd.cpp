#include "app/diff_cmd.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <vector>

#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {

namespace fs = std::filesystem;

namespace {

/// Every summary.json under `root`, by its folder relative to root ("." for root itself).
std::map<std::string, fs::path> summaries(const std::string& root, const char* which) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw InputError(fmt::format("{}: {}: not a directory (expected a run or sweep output directory)", root, which));
  std::map<std::string, fs::path> out;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->path().filename() == "summary.json" && it->is_regular_file())
      out[fs::relative(it->path().parent_path(), root).generic_string()] = it->path();
  if (ec) throw InputError(fmt::format("{}: {}: cannot list: {}", root, which, ec.message()));
  if (out.empty()) throw InputError(fmt::format("{}: {}: no summary.json under it", root, which));
  return out;
}

/// The summary's keys, dotted, without its provenance; config apart.
std::map<std::string, Json> flat(const Json& j, const std::string& prefix) {
  std::map<std::string, Json> out;
  if (!j.is_object()) return out;
  const Json flattened = j.flatten();  // (items() of a temporary would outlive it)
  for (const auto& [ptr, v] : flattened.items()) {
    if (ptr.empty()) continue;  // an empty object flattens to {"": null}
    std::string key = prefix + ptr.substr(1);
    std::replace(key.begin(), key.end(), '/', '.');
    out[key] = v;
  }
  return out;
}

/// |b - a| relative to the larger of the two (0 when both are 0); 1 for
/// values that differ but are not both numbers.
double moved(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    const double scale = std::max(std::fabs(x), std::fabs(y));
    return scale == 0 ? 0 : std::fabs(y - x) / scale;
  }
  return a == b ? 0 : 1;
}

std::string change_text(const Json& a, const Json& b) {
  if (!a.is_number() || !b.is_number()) return "changed";
  const double x = a.get<double>(), y = b.get<double>();
  if (x == 0) return y == 0 ? "0" : "(was 0)";
  return fmt::format("{:+.4g}%", 100 * (y - x) / std::fabs(x));
}

std::string shown(const Json& v) {
  const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  return brief(s, 40);
}

}  // namespace

int cmd_diff(const std::string& a, const std::string& b, double tolerance, bool all) {
  if (!(tolerance >= 0)) throw InputError(fmt::format("--tolerance {}: expected a share >= 0 (0.01 is 1%)", tolerance));
  const auto left = summaries(a, "A"), right = summaries(b, "B");
  struct Row {
    std::string run, key, a, b, change;
  };
  std::vector<Row> rows, config_rows;
  std::vector<std::string> only;
  uint64_t figures = 0, over = 0, runs = 0;
  for (const auto& [run, pa] : left) {
    const auto it = right.find(run);
    if (it == right.end()) {
      only.push_back(fmt::format("{} (only in A)", run));
      continue;
    }
    ++runs;
    Json ja = read_json_file(pa.string()), jb = read_json_file(it->second.string());
    for (Json* j : {&ja, &jb}) {
      if (!j->is_object())
        throw InputError(fmt::format("{}: /: a summary must be a JSON object", (j == &ja ? pa : it->second).string()));
      j->erase("provenance");
    }
    const Json ca = ja.value("config", Json::object()), cb = jb.value("config", Json::object());
    ja.erase("config");
    jb.erase("config");
    auto fa = flat(ja, ""), fb = flat(jb, "");
    std::set<std::string> keys;
    for (const auto& [k, v] : fa) keys.insert(k);
    for (const auto& [k, v] : fb) keys.insert(k);
    for (const auto& k : keys) {
      ++figures;
      const bool in_a = fa.count(k) > 0, in_b = fb.count(k) > 0;
      const Json va = in_a ? fa[k] : Json(), vb = in_b ? fb[k] : Json();
      const double m = in_a && in_b ? moved(va, vb) : 1;
      const bool beyond = m > tolerance;
      over += beyond;
      if (beyond || all)
        rows.push_back({run, k, in_a ? shown(va) : "-", in_b ? shown(vb) : "-",
                        in_a && in_b ? change_text(va, vb) : (in_a ? "only in A" : "only in B")});
    }
    auto ga = flat(ca, "config."), gb = flat(cb, "config.");
    std::set<std::string> ckeys;
    for (const auto& [k, v] : ga) ckeys.insert(k);
    for (const auto& [k, v] : gb) ckeys.insert(k);
    for (const auto& k : ckeys) {
      const Json va = ga.count(k) ? ga[k] : Json(), vb = gb.count(k) ? gb[k] : Json();
      if (va != vb) config_rows.push_back({run, k, va.is_null() ? "-" : shown(va), vb.is_null() ? "-" : shown(vb), ""});
    }
  }
  for (const auto& [run, pb] : right)
    if (!left.count(run)) only.push_back(fmt::format("{} (only in B)", run));

  size_t w_run = 3, w_key = 6, w_a = 1, w_b = 1;
  for (const auto* list : {&rows, &config_rows})
    for (const auto& r : *list) {
      w_run = std::max(w_run, r.run.size());
      w_key = std::max(w_key, r.key.size());
      w_a = std::max(w_a, r.a.size());
      w_b = std::max(w_b, r.b.size());
    }
  if (!rows.empty()) {
    std::cout << fmt::format("{:<{}}  {:<{}}  {:>{}}  {:>{}}  {}\n", "run", w_run, "figure", w_key, "A", w_a, "B", w_b,
                             "change");
    for (const auto& r : rows)
      std::cout << fmt::format("{:<{}}  {:<{}}  {:>{}}  {:>{}}  {}\n", r.run, w_run, r.key, w_key, r.a, w_a, r.b, w_b,
                               r.change);
  }
  if (!config_rows.empty()) {
    std::cout << "configuration differences (not figures):\n";
    for (const auto& r : config_rows)
      std::cout << fmt::format("{:<{}}  {:<{}}  {:>{}}  {:>{}}\n", r.run, w_run, r.key, w_key, r.a, w_a, r.b, w_b);
  }
  for (const auto& o : only) std::cout << "run " << o << "\n";
  std::cout << fmt::format("compared {} runs, {} figures: {} moved by more than {} (relative){}\n", runs, figures, over,
                           tolerance, only.empty() ? "" : fmt::format("; {} runs on one side only", only.size()));
  return over > 0 || !only.empty() ? kExitFailed : kExitOk;
}

}  // namespace vringsim

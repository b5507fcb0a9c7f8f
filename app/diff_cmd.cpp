#include "app/diff_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <fnmatch.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
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

/// Keys that describe how a run was measured rather than what it measured:
/// the measured window's bounds, the samples taken, the steady-state judge's
/// slopes, R^2 and message, the run's end and the --check count. Their
/// meaning is in docs/metrics.md; `measure.valid` and `measure.steady`,
/// which say whether the figures are results at all, are results.
bool is_diagnostic(const std::string& key) {
  if (key == "measure.valid" || key == "measure.steady") return false;
  return key.starts_with("measure.") || key.starts_with("run.") || key.starts_with("check.");
}

/// A dotted-key glob (`latency_us.p9*`) or a prefix (`throughput` matches
/// `throughput.delivered_gbps`).
bool matches(const std::string& pattern, const std::string& key) {
  if (key == pattern || (key.size() > pattern.size() && key.starts_with(pattern) && key[pattern.size()] == '.'))
    return true;
  return ::fnmatch(pattern.c_str(), key.c_str(), 0) == 0;
}

bool any_match(const std::vector<std::string>& patterns, const std::string& key) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return matches(p, key); });
}

/// The change of a figure, relative to A: (B - A) / max(|A|, floor). One
/// definition for the column and the tolerance. Values that are not both
/// numbers: 0 when equal, infinite otherwise.
double change_of(const Json& a, const Json& b, double floor) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    if (x == y) return 0;
    const double scale = std::max(std::fabs(x), floor);
    return scale > 0 ? (y - x) / scale : std::copysign(HUGE_VAL, y - x);
  }
  return a == b ? 0 : HUGE_VAL;
}

std::string change_text(const Json& a, const Json& b, double change) {
  if (!a.is_number() || !b.is_number()) return "changed";
  if (change == 0) return "0";
  if (a.get<double>() == 0) return "(was 0)";
  return fmt::format("{:+.4g}%", 100 * change);
}

std::string shown(const Json& v) {
  const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  return brief(s, 40);
}

}  // namespace

int cmd_diff(const std::string& a, const std::string& b, const DiffOptions& opt) {
  if (!(opt.tolerance >= 0))
    throw InputError(fmt::format("--tolerance {}: expected a share >= 0 (0.01 is 1%)", opt.tolerance));
  if (!(opt.floor >= 0) || !std::isfinite(opt.floor))
    throw InputError(fmt::format("--floor {}: expected an absolute value >= 0", opt.floor));
  const auto left = summaries(a, "A"), right = summaries(b, "B");
  struct Row {
    std::string run, key, a, b, change;
  };
  std::vector<Row> rows, config_rows;
  std::vector<std::string> only;
  std::vector<bool> only_used(opt.only.size(), false);
  uint64_t figures = 0, over = 0, runs = 0;
  for (const auto& [run, pa] : left) {
    const auto it = right.find(run);
    if (it == right.end()) {
      only.push_back(fmt::format("{} (only in A)", run));
      continue;
    }
    ++runs;
    Json ja = read_summary_file(pa.string()), jb = read_summary_file(it->second.string());
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
      // Compared: what --only names, else the results (everything with
      // --all); never what --ignore names.
      bool chosen = false;
      for (size_t i = 0; i < opt.only.size(); ++i)
        if (matches(opt.only[i], k)) chosen = only_used[i] = true;
      if (opt.only.empty()) chosen = opt.all || !is_diagnostic(k);
      if (!chosen || any_match(opt.ignore, k)) continue;
      ++figures;
      const bool in_a = fa.count(k) > 0, in_b = fb.count(k) > 0;
      const Json va = in_a ? fa[k] : Json(), vb = in_b ? fb[k] : Json();
      const double change = in_a && in_b ? change_of(va, vb, opt.floor) : HUGE_VAL;
      const bool beyond = std::fabs(change) > opt.tolerance;
      over += beyond;
      if (beyond || opt.list)
        rows.push_back({run, k, in_a ? shown(va) : "-", in_b ? shown(vb) : "-",
                        in_a && in_b ? change_text(va, vb, change) : (in_a ? "only in A" : "only in B")});
    }
    auto ga = flat(ca, "config."), gb = flat(cb, "config.");
    std::set<std::string> ckeys;
    for (const auto& [k, v] : ga) ckeys.insert(k);
    for (const auto& [k, v] : gb) ckeys.insert(k);
    for (const auto& k : ckeys) {
      if (any_match(opt.ignore, k)) continue;
      const Json va = ga.count(k) ? ga[k] : Json(), vb = gb.count(k) ? gb[k] : Json();
      if (va != vb) config_rows.push_back({run, k, va.is_null() ? "-" : shown(va), vb.is_null() ? "-" : shown(vb), ""});
    }
  }
  // A pattern that matches nothing is a typo, not a pass.
  for (size_t i = 0; i < opt.only.size(); ++i)
    if (!only_used[i] && runs > 0)
      throw InputError(fmt::format("--only {}: matches no figure of the runs compared (dotted summary keys, "
                                   "a prefix or a glob: throughput, latency_us.p9*)",
                                   brief(opt.only[i], 80)));
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
                           opt.tolerance, only.empty() ? "" : fmt::format("; {} runs on one side only", only.size()));
  return over > 0 || !only.empty() ? kExitFailed : kExitOk;
}

Command diff_command(CLI::App& app) {
  struct Args {
    std::string a, b;
    DiffOptions opt;
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand(
      "diff", "two run or sweep directories figure by figure; exit 1 if a result moved by more than --tolerance");
  cli->add_option("a", a->a, "first directory (run --out or sweep --out; every summary.json under it)")->required();
  cli->add_option("b", a->b, "second directory, matched to the first by each summary's path")->required();
  cli->add_option("--tolerance", a->opt.tolerance,
                  "change allowed, |B - A| / max(|A|, floor) (default 0: any change; 0.01 = 1%)");
  cli->add_option("--floor", a->opt.floor,
                  "absolute floor of the change's denominator, so noise around 0 is no change (default 1e-9)");
  cli->add_flag("--all", a->opt.all,
                "compare the diagnostics too (measure.* but valid and steady, run.*, check.*), not only results");
  cli->add_option("--only", a->opt.only,
                  "PATTERN: compare only these figures (dotted key, prefix or glob; repeatable)");
  cli->add_option("--ignore", a->opt.ignore,
                  "PATTERN: leave these figures out (dotted key, prefix or glob; repeatable)");
  cli->add_flag("--list", a->opt.list, "list every figure compared, not only those that moved");
  return {cli, [a] { return cmd_diff(a->a, a->b, a->opt); }};
}

}  // namespace vringsim

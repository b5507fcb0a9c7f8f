// The order of simultaneous events (docs/model.md §7 "Simultaneous
// instants") fixes time and phase; within one time and phase it leaves the
// order free. This test runs shipped scenarios with that free order drawn
// from seeds (RunOptions::shuffle_seed) and prints how far every numeric
// figure of summary.json moves from the run in the order the events were
// made. A figure moving by more than 1 % means the model depends on an order
// it has not decided: usually something it is missing that would separate
// the events (a latency, a cost that is never exactly equal, a scheduler's
// choice). With one receive queue the rule leaves nothing free (one task
// per side and phase), so only runs with several queues can move.
// Such a movement fails the test unless tests/engine/known_findings.json
// lists it with its explanation; an entry that no longer moves fails too
// (fixed: take it out). A yes/no figure that changes always fails.
//
// The trend fits (/measure/trend/: slope and r^2 of the sampled series over
// the measured window) are printed but not judged: in a steady run they are
// noise around 0, so a relative movement has no scale; what they decide,
// /measure/valid, is a yes/no figure and is judged.
//
// Usage (ctest runs it without arguments): vringsim_shuffle_test [SCENARIO...]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

#ifndef VRINGSIM_SOURCE_DIR
#define VRINGSIM_SOURCE_DIR "."
#endif

namespace vringsim {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = VRINGSIM_SOURCE_DIR;
constexpr double kLimit = 0.01;  // 1 %
constexpr uint64_t kSeeds[] = {1, 2, 3};

/// The shipped scenarios the test runs: every one but those of 32 and 128
/// guests (minutes each; the 8-guest ones share cores the same way), the
/// linux-6 runs at 25 and 100 Gb/s (the 10 Gb/s ones run the same paths) and
/// the calibration's inputs, which are not scenarios.
std::vector<std::string> default_scenarios() {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(kSource / "scenarios")) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    const std::string rel = fs::relative(e.path(), kSource).string();
    if (rel.starts_with("scenarios/sweeps/") || rel.starts_with("scenarios/calibration/2008-") ||
        rel.starts_with("scenarios/calibration/latency-") || rel.starts_with("scenarios/calibration/today-x86-") ||
        rel.find("/32g-") != std::string::npos || rel.find("/128g-") != std::string::npos ||
        rel.find("-25g.json") != std::string::npos || rel.find("-100g.json") != std::string::npos)
      continue;
    out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Every numeric figure of a summary by its JSON pointer, but the inputs
/// (config) and the provenance; its yes/no figures in `flags`.
void figures(const Json& j, const std::string& at, std::map<std::string, double>& out,
             std::map<std::string, bool>& flags) {
  if (at == "/config" || at == "/provenance") return;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) figures(v, at + "/" + k, out, flags);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) figures(j[i], at + "/" + std::to_string(i), out, flags);
  } else if (j.is_boolean()) {
    flags[at] = j.get<bool>();
  } else if (j.is_number()) {
    out[at] = j.get<double>();
  }
}

/// How far `b` is from `a`, relative to the larger magnitude (0 when equal).
double movement(double a, double b) {
  if (a == b) return 0;
  return std::abs(a - b) / std::max(std::abs(a), std::abs(b));
}

struct Finding {
  std::string scenario, figure, why;  // figure: a pointer prefix
  bool seen = false;
};

int run(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) files.emplace_back(argv[i]);
  const bool all = files.empty();
  if (all) files = default_scenarios();

  std::vector<Finding> known;
  {
    std::ifstream in(kSource / "tests/engine/known_findings.json");
    for (const Json& e : Json::parse(in))
      known.push_back({e.at("scenario").get<std::string>(), e.at("figure").get<std::string>(),
                       e.at("why").get<std::string>()});
  }

  std::vector<Scenario> runs;
  std::vector<RunOptions> options;
  for (const std::string& f : files) {
    const Scenario sc = load_scenario((kSource / f).string());
    for (uint64_t seed = 0; seed <= std::size(kSeeds); ++seed) {
      RunOptions opt;
      opt.timeseries = TimeseriesMode::Discard;
      opt.shuffle_seed = seed == 0 ? 0 : kSeeds[seed - 1];
      runs.push_back(sc);
      options.push_back(opt);
    }
  }
  const size_t per = std::size(kSeeds) + 1;
  std::vector<RunOutcome> outcomes(runs.size());
  run_in_children(runs, options, 2, [&](size_t i, RunOutcome&& o) { outcomes[i] = std::move(o); });

  int failures = 0;
  fmt::print("Each scenario in the order the events were made, and with the order the rule leaves free\n"
             "drawn from {} seeds: the figures of summary.json that moved, the largest movement of each\n"
             "(those over 0.01 %; over 1 %: known or NEW, a finding; fit: a trend fit, not judged).\n",
             std::size(kSeeds));
  fmt::print("{:<52} {:>7} {:>9}  {}\n", "scenario", "moved", "max move", "figure (made order -> shuffled)");
  for (size_t s = 0; s < files.size(); ++s) {
    const RunOutcome& base = outcomes[s * per];
    if (base.exit_code != 0) {
      fmt::print("{}: exit {} in the order made\n", files[s], base.exit_code);
      ++failures;
      continue;
    }
    std::map<std::string, double> a;
    std::map<std::string, bool> a_flags;
    figures(base.result.summary, "", a, a_flags);
    std::map<std::string, std::pair<double, double>> worst;  // figure -> (movement, shuffled value)
    for (size_t k = 1; k < per; ++k) {
      const RunOutcome& o = outcomes[s * per + k];
      if (o.exit_code != 0) {
        fmt::print("{}: exit {} with shuffle seed {}\n", files[s], o.exit_code, kSeeds[k - 1]);
        ++failures;
        continue;
      }
      std::map<std::string, double> b;
      std::map<std::string, bool> b_flags;
      figures(o.result.summary, "", b, b_flags);
      if (b_flags != a_flags) {
        for (const auto& [f, v] : a_flags)
          if (!b_flags.contains(f) || b_flags[f] != v)
            fmt::print("{}: {} is {} in the order made, not with shuffle seed {}\n", files[s], f, v, kSeeds[k - 1]);
        ++failures;
      }
      for (const auto& [f, v] : a) {
        const auto it = b.find(f);
        const double m = it == b.end() ? 1.0 : movement(v, it->second);
        if (m > worst[f].first) worst[f] = {m, it == b.end() ? NAN : it->second};
      }
    }
    // The judged figures first, largest movement first; then the fits.
    std::vector<std::tuple<bool, double, std::string>> moved;
    for (const auto& [f, w] : worst)
      if (w.first > 0) moved.emplace_back(!f.starts_with("/measure/trend/"), w.first, f);
    std::sort(moved.rbegin(), moved.rend());
    if (moved.empty() || !std::get<0>(moved[0])) {
      fmt::print("{:<52} {:>7} {:>8.4f}%\n", files[s], moved.size(), 0.0);
    } else {
      const std::string& top = std::get<2>(moved[0]);
      fmt::print("{:<52} {:>7} {:>8.4f}%  {} ({:.10g} -> {:.10g})\n", files[s], moved.size(),
                 100 * std::get<1>(moved[0]), top, a[top], worst[top].second);
    }
    for (const auto& [judged, m, f] : moved) {
      if (!judged) {  // a fit: not judged (above)
        if (m > kLimit) fmt::print("  fit   {:>8.4f}%  {} ({:.10g} -> {:.10g})\n", 100 * m, f, a[f], worst[f].second);
        continue;
      }
      if (m <= kLimit) {
        if (m > 1e-4) fmt::print("    {:>8.4f}%  {} ({:.10g} -> {:.10g})\n", 100 * m, f, a[f], worst[f].second);
        continue;
      }
      Finding* listed = nullptr;
      for (Finding& k : known)
        if (k.scenario == files[s] && f.starts_with(k.figure)) listed = &k;
      fmt::print("  {} {:>8.4f}%  {} ({:.10g} -> {:.10g})\n", listed ? "known" : "NEW  ", 100 * m, f, a[f],
                 worst[f].second);
      if (listed) {
        listed->seen = true;
      } else {
        ++failures;
      }
    }
  }
  for (const Finding& k : known) {
    if (!all && std::find(files.begin(), files.end(), k.scenario) == files.end()) continue;
    if (k.seen) {
      const bool again = std::any_of(known.begin(), known.begin() + (&k - known.data()),
                                     [&k](const Finding& e) { return e.seen && e.why == k.why; });
      fmt::print("known finding: {} {}: {}\n", k.scenario, k.figure, again ? "(as above)" : k.why);
    } else {
      fmt::print("a known finding no longer moves by more than 1 % (take it out of known_findings.json): {} {}\n",
                 k.scenario, k.figure);
      ++failures;
    }
  }
  fmt::print("{} scenario(s), {} shuffle(s) each: {}\n", files.size(), std::size(kSeeds),
             failures ? fmt::format("{} failure(s)", failures) : std::string("every movement within 1 % or known"));
  return failures ? 1 : 0;
}

}  // namespace
}  // namespace vringsim

int main(int argc, char** argv) { return vringsim::run(argc, argv); }

// A weighted length list of 1,000,000 entries (traffic.synthetic.length =
// weighted; issue 35: it made a 0.05 s run take 34 s, every draw scanning the
// list). Prints the time to make the source (the list read and its
// cumulative weights prepared, once), to draw 1,000,000 lengths (a binary
// search each), the linear scan it replaced on the same list (a few
// thousand draws, and whether every one picked the same length), and a whole
// 0.05 s run of the scenario in a child process, as `vringsim run` makes it.
// Figures, not a test: the machine's load only ever adds time.
//
// Usage: bench_weighted [ENTRIES] (default 1000000)
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "models/traffic/weighted_pick.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/traffic.hpp"
#include "sim/world/runner.hpp"

namespace fs = std::filesystem;
using namespace vringsim;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::stoul(argv[1]) : 1'000'000;
  // Lengths 60..1514 over and over, weights 0..9 (a tenth of them 0).
  Json lens = Json::array(), weights = Json::array();
  Rng w(35, "bench-weights");
  std::vector<double> cumulative;
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto weight = static_cast<double>(w.uniform_int(0, 9));
    lens.push_back(60 + i % 1455);
    weights.push_back(weight);
    cumulative.push_back(total += weight);
  }
  Json doc = {{"name", "bench-weighted"},
              {"stop", {{"time_s", 0.05}}},
              {"measure", {{"warmup_s", 0.01}}},
              {"traffic", {{"synthetic", {{"length", "weighted"}, {"lens_bytes", lens}, {"weights", weights}}}}}};
  fmt::print("weighted list of {} lengths\n", n);

  // The source as a run makes it: the list read, cumulative weights prepared.
  auto t0 = std::chrono::steady_clock::now();
  check_document(doc, "bench");
  const Config cfg(resolve_defaults(doc));
  auto source =
      Registry<TrafficInfo>::instance().find("synthetic")->create(TrafficContext{cfg, "traffic.synthetic.", 7, "."});
  fmt::print("  source made (list checked, cumulative weights prepared once): {:.3f} s\n", seconds_since(t0));

  const size_t draws = 1'000'000;
  uint64_t bytes = 0;
  t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < draws; ++i) bytes += source->next()->len_bytes;
  const double drawn = seconds_since(t0);
  fmt::print("  {} draws: {:.3f} s ({:.0f} ns a draw; {} bytes drawn)\n", draws, drawn, drawn / draws * 1e9, bytes);

  // The linear scan the binary search replaced, on the same list.
  const size_t scans = 2000;
  Rng u(36, "bench-draws");
  size_t same = 0;
  t0 = std::chrono::steady_clock::now();
  for (size_t k = 0; k < scans; ++k) {
    const double x = u.uniform() * total;
    size_t i = 0;
    while (i + 1 < cumulative.size() && x >= cumulative[i]) ++i;
    same += i == pick_weighted(cumulative, x);
  }
  const double scanned = seconds_since(t0);
  fmt::print("  linear scan (before issue 35): {} draws {:.3f} s ({:.0f} ns a draw, {:.0f} x the binary search's); "
             "the same length as the binary search in {} of {}\n",
             scans, scanned, scanned / scans * 1e9, (scanned / scans) / (drawn / draws), same, scans);

  // A whole 0.05 s run, in a child as `vringsim run` runs it.
  const fs::path dir = fs::temp_directory_path() / fmt::format("vringsim-bench-weighted-{}", ::getpid());
  fs::create_directories(dir);
  std::ofstream(dir / "weighted.json") << doc.dump();
  t0 = std::chrono::steady_clock::now();
  const RunOutcome o = run_in_child(load_scenario((dir / "weighted.json").string(), {}), {});
  const double ran = seconds_since(t0);
  fs::remove_all(dir);
  if (o.exit_code != 0) {
    fmt::print("  the run failed (exit {})\n", o.exit_code);
    return 1;
  }
  fmt::print("  a 0.05 s run (load and simulate): {:.2f} s wall, {} packets arrived\n", ran,
             o.result.summary["packets"]["arrived"].get<uint64_t>());
  return 0;
}

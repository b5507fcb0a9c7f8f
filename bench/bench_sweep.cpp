// Sweep throughput (sweep issue): a 40-point sweep with --jobs 1 and
// --jobs 2 (target on this 2-core machine: jobs 2 in at most 0.6x the time
// of jobs 1), and the per-run process overhead (target < 100 ms), measured
// on 40 runs that simulate almost nothing.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "sim/core/sweep.hpp"
#include "sim/world/sweep_runner.hpp"

namespace fs = std::filesystem;
using namespace vringsim;

namespace {
double timed(const Sweep& s, const fs::path& out, unsigned jobs) {
  fs::remove_all(out);
  const auto t0 = std::chrono::steady_clock::now();
  if (run_sweep(s, {out, jobs, std::nullopt, false}) != 0) throw std::runtime_error("sweep failed");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main() {
  const fs::path dir = fs::temp_directory_path() / fmt::format("vringsim-bench-sweep-{}", ::getpid());
  fs::create_directories(dir);
  // Poisson arrivals: with the default line-rate arrivals the rate axis below changed nothing.
  std::ofstream(dir / "base.json")
      << R"({"name": "b", "stop": {"time_s": 0.2}, "measure": {"warmup_s": 0.01}, "traffic": {"arrival": "poisson"}})";
  std::ofstream(dir / "sweep.json") << R"({"name": "bench", "base": "base.json", "axes": [
      {"key": "policy.name", "values": ["max-buffer", "mergeable", "coalesced", "hdr-in-data"]},
      {"key": "traffic.rate_gbps", "values": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}]})";
  std::ofstream(dir / "tiny.json") << R"({"name": "tiny", "base": "base.json", "axes": [
      {"key": "traffic.rate_gbps", "values": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]},
      {"key": "ring.size", "values": [256, 512, 1024, 2048]},
      {"key": "stop.time_s", "values": [0.000002]}, {"key": "measure.warmup_s", "values": [0.000001]}]})";
  const Sweep s = load_sweep((dir / "sweep.json").string());
  const double one = timed(s, dir / "o1", 1);
  const double two = timed(s, dir / "o2", 2);
  const Sweep tiny = load_sweep((dir / "tiny.json").string());
  const double t = timed(tiny, dir / "o3", 1);
  fmt::print("40-point sweep: --jobs 1 {:.2f} s, --jobs 2 {:.2f} s, ratio {:.2f} (target <= 0.6)\n", one, two,
             two / one);
  fmt::print("per-run overhead: {:.1f} ms ({} near-empty runs in {:.2f} s, --jobs 1; target < 100 ms)\n",
             t / tiny.points.size() * 1e3, tiny.points.size(), t);
  fs::remove_all(dir);
  return 0;
}

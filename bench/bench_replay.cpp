// Capture replay against the synthetic source, and memory against trace
// length (traffic issue): packets per wall-second for pcap replay and for
// the synthetic generator on the same frames, and the peak RSS of a replay
// of N packets against one of 100 x N. Each run is its own child process.
// Then peak RSS as `vringsim run --out` has it (timeseries.csv streamed):
// a sparse 10-minute trace (600,000 rows of 1 ms samples) and a
// 10-million-packet one; the target is under 100 MB for each.
//
// Best of 5 runs each: the machine's noise only ever adds time.
//
// Usage: bench_replay [PACKETS_PER_PASS]
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

namespace fs = std::filesystem;
using namespace vringsim;

namespace {

void write_capture(const fs::path& path, uint32_t packets) {
  // Classic pcap, 1514-byte Ethernet/IPv4/TCP frames cut to 96 bytes, at 10 Gb/s line rate.
  std::ofstream f(path, std::ios::binary);
  auto u32 = [&f](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&f](uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  u32(0xa1b23c4d), u16(2), u16(4), u32(0), u32(0), u32(96), u32(1);
  unsigned char frame[96] = {};
  frame[12] = 0x08, frame[14] = 0x45, frame[23] = 6, frame[46] = 5 << 4;
  uint64_t t_ns = 1'700'000'000'000'000'000ull;
  for (uint32_t i = 0; i < packets; ++i) {
    t_ns += 1230;  // (1514 + 24) * 8 bits at 10 Gb/s
    u32(static_cast<uint32_t>(t_ns / 1'000'000'000)), u32(static_cast<uint32_t>(t_ns % 1'000'000'000));
    u32(96), u32(1514);
    f.write(reinterpret_cast<const char*>(frame), 96);
  }
}

/// A CSV trace of one MTU frame every 10 ms for `seconds`.
void write_sparse_csv(const fs::path& path, uint32_t seconds) {
  std::ofstream f(path);
  f << "time_s,len_bytes\n";
  for (uint32_t i = 0; i < seconds * 100; ++i) f << fmt::format("{:.2f},1514\n", i * 0.01);
}

struct Measured {
  double wall_s;
  double arrived;
  long rss_kb;
};

Measured measure(const fs::path& scenario, const std::vector<std::string>& sets) {
  const Scenario s = load_scenario(scenario.string(), sets);
  Measured best{1e300, 0, 0};
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    RunOutcome o = run_in_child(s, {});
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.exit_code != 0) throw std::runtime_error("run failed");
    if (wall < best.wall_s) best = {wall, o.result.summary["packets"]["arrived"].get<double>(), o.max_rss_kb};
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t per_pass = argc > 1 ? static_cast<uint32_t>(std::stoul(argv[1])) : 20000;
  const fs::path dir = fs::temp_directory_path() / fmt::format("vringsim-bench-{}", ::getpid());
  fs::create_directories(dir);
  write_capture(dir / "c.pcap", per_pass);
  std::ofstream(dir / "pcap.json")
      << R"({"name": "bench-pcap", "policy": {"name": "mergeable"}, "stop": {"time_s": 1e6},
    "measure": {"warmup_s": 0}, "traffic": {"kind": "pcap", "arrival": "line-rate", "pcap": {"file": "c.pcap"}}})";
  std::ofstream(dir / "syn.json") << R"({"name": "bench-syn", "policy": {"name": "mergeable"}, "stop": {"time_s": 1e6},
    "measure": {"warmup_s": 0}, "traffic": {"kind": "synthetic", "arrival": "line-rate"}})";
  const uint64_t big = 100ull * per_pass;

  fmt::print("{:<40} {:>12} {:>9} {:>12} {:>10}\n", "run", "arrived", "wall s", "arrived/s", "peak RSS");
  auto row = [](const std::string& name, const Measured& m) {
    fmt::print("{:<40} {:>12.0f} {:>9.3f} {:>12.0f} {:>7} KiB\n", name, m.arrived, m.wall_s, m.arrived / m.wall_s,
               m.rss_kb);
  };
  const Measured syn = measure(dir / "syn.json", {fmt::format("stop.packets={}", big)});
  row(fmt::format("synthetic, {} packets", big), syn);
  const Measured small = measure(dir / "pcap.json", {"traffic.pcap.loops=1"});
  row(fmt::format("pcap, {} packets (1 pass)", per_pass), small);
  const Measured large = measure(dir / "pcap.json", {"traffic.pcap.loops=100"});
  row(fmt::format("pcap, {} packets (100 passes)", big), large);
  // Passes after the first replay it from memory (PassCache); one pass of a
  // capture as long reads and decodes every record from the file.
  const uint32_t one_file = 25 * per_pass;
  write_capture(dir / "long.pcap", one_file);
  std::ofstream(dir / "long.json")
      << R"({"name": "bench-pcap-long", "policy": {"name": "mergeable"}, "stop": {"time_s": 1e6},
    "measure": {"warmup_s": 0}, "traffic": {"kind": "pcap", "arrival": "line-rate", "pcap": {"file": "long.pcap"}}})";
  const Measured file_pass = measure(dir / "long.json", {});
  row(fmt::format("pcap, {} packets (1 pass, one file)", one_file), file_pass);
  fmt::print("pcap replay speed / synthetic: {:.2f} (target >= 0.75)\n",
             (large.arrived / large.wall_s) / (syn.arrived / syn.wall_s));
  fmt::print("pcap read from the file / synthetic: {:.2f}\n",
             (file_pass.arrived / file_pass.wall_s) / (syn.arrived / syn.wall_s));
  fmt::print("peak RSS, 100x the packets / 1x: {:.2f}\n", static_cast<double>(large.rss_kb) / small.rss_kb);

  // Long runs as `run --out` makes them: rows streamed to the file.
  write_sparse_csv(dir / "sparse.csv", 600);
  std::ofstream(dir / "sparse.json") << R"({"name": "bench-sparse", "stop": {"time_s": 601},
    "traffic": {"kind": "csv", "arrival": "trace", "csv": {"file": "sparse.csv"}}})";
  auto once = [&dir](const fs::path& scenario, const std::vector<std::string>& sets, TimeseriesMode mode) {
    RunOptions opt;
    opt.timeseries = mode;
    opt.timeseries_path = (dir / "ts.csv").string();
    const auto t0 = std::chrono::steady_clock::now();
    const RunOutcome o = run_in_child(load_scenario(scenario.string(), sets), opt);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.exit_code != 0) throw std::runtime_error("run failed");
    const uint64_t arrived = o.result.summary["packets"]["arrived"].get<uint64_t>();
    const uint64_t delivered = o.result.summary["packets"]["delivered"].get<uint64_t>();
    const uint64_t rows = o.result.ts_row_count;
    fs::remove(dir / "ts.csv");
    return std::tuple(wall, arrived, delivered, rows, o.max_rss_kb);
  };
  fmt::print("\n{:<42} {:>10} {:>10} {:>8} {:>7} {:>12}\n", "long run", "arrived", "delivered", "rows", "wall s",
             "peak RSS");
  auto long_row = [](const std::string& name, const auto& r) {
    const auto [wall, arrived, delivered, rows, rss] = r;
    fmt::print("{:<42} {:>10} {:>10} {:>8} {:>7.2f} {:>8.1f} MiB\n", name, arrived, delivered, rows, wall,
               rss / 1024.0);
  };
  // Streamed first: a child's peak counts the pages it shares with this
  // process, which the in-memory run's result grows.
  long_row("sparse 10 min, streamed (run --out)", once(dir / "sparse.json", {}, TimeseriesMode::Stream));
  long_row("pcap 10 M packets, streamed (run --out)",
           once(dir / "pcap.json", {fmt::format("traffic.pcap.loops={}", 10'000'000 / per_pass)},
                TimeseriesMode::Stream));
  long_row("sparse 10 min, rows kept in memory (API)", once(dir / "sparse.json", {}, TimeseriesMode::Keep));
  fs::remove_all(dir);
  return 0;
}

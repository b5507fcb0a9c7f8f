// Capture replay against the synthetic source, and memory against trace
// length (traffic issue): packets per wall-second for pcap replay and for
// the synthetic generator on the same frames, and the peak RSS of a replay
// of N packets against one of 100 x N. Each run is its own child process.
//
// Best of 5 runs each: the machine's noise only ever adds time.
//
// Usage: bench_replay [PACKETS_PER_PASS]
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

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

  fmt::print("{:<34} {:>12} {:>9} {:>12} {:>10}\n", "run", "arrived", "wall s", "arrived/s", "peak RSS");
  auto row = [](const std::string& name, const Measured& m) {
    fmt::print("{:<34} {:>12.0f} {:>9.3f} {:>12.0f} {:>7} KiB\n", name, m.arrived, m.wall_s, m.arrived / m.wall_s,
               m.rss_kb);
  };
  const Measured syn = measure(dir / "syn.json", {fmt::format("stop.packets={}", big)});
  row(fmt::format("synthetic, {} packets", big), syn);
  const Measured small = measure(dir / "pcap.json", {"traffic.pcap.loops=1"});
  row(fmt::format("pcap, {} packets (1 pass)", per_pass), small);
  const Measured large = measure(dir / "pcap.json", {"traffic.pcap.loops=100"});
  row(fmt::format("pcap, {} packets (100 passes)", big), large);
  fmt::print("pcap replay speed / synthetic: {:.2f} (target >= 0.75)\n",
             (large.arrived / large.wall_s) / (syn.arrived / syn.wall_s));
  fmt::print("peak RSS, 100x the packets / 1x: {:.2f}\n", static_cast<double>(large.rss_kb) / small.rss_kb);
  fs::remove_all(dir);
  return 0;
}

// Wall time of starting vringsim for commands that do not simulate
// (`--version`, `validate`) and one that does (a 1 ms run), median and best
// of N starts. The commands that do not simulate never load the engine
// module (SimGrid): app/engine_loader.cpp.
//
// Usage: bench_startup [VRINGSIM_BINARY] [STARTS]
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#ifndef VRINGSIM_BINARY_DIR
#define VRINGSIM_BINARY_DIR "."
#endif
#ifndef VRINGSIM_SOURCE_DIR
#define VRINGSIM_SOURCE_DIR "."
#endif

extern char** environ;

namespace {

/// Seconds to run `args` to completion, output discarded; throws if it fails.
double start_once(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start " + args[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("failed: " + args[1]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string bin = argc > 1 ? argv[1] : std::string(VRINGSIM_BINARY_DIR) + "/vringsim";
  const int starts = argc > 2 ? std::stoi(argv[2]) : 40;
  const std::string scenario = std::string(VRINGSIM_SOURCE_DIR) + "/scenarios/seed-2008/mergeable.json";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"--version", {bin, "--version"}},
      {"validate", {bin, "validate", scenario}},
      {"run 1 ms (loads the engine)", {bin, "run", scenario, "--set", "stop.time_s=0.001", "--set", "measure.warmup_s=0"}},
  };
  fmt::print("{:<30} {:>10} {:>10}\n", "command", "median ms", "best ms");
  for (const auto& [name, args] : cases) {
    std::vector<double> t;
    for (int i = 0; i < starts; ++i) t.push_back(start_once(args));
    std::sort(t.begin(), t.end());
    fmt::print("{:<30} {:>10.1f} {:>10.1f}\n", name, t[t.size() / 2] * 1e3, t.front() * 1e3);
  }
  return 0;
}

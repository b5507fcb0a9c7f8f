// Wall time of starting vringsim for commands that do not simulate
// (`--version`, `validate`) and one that does (a 1 ms run), median and best
// of N starts. The commands that do not simulate never load the engine
// module (SimGrid): app/engine_loader.cpp.
//
// Then where a run's start goes, before and around its first event: the
// same scenario stopped after 1 us, run N times with VRINGSIM_STARTUP_STAMPS
// set (sim/core/startup_stamp.hpp), each step's median from the previous
// stamp (the first from the instant the bench started the process, the
// last to the instant it was waited for). The engine module's load is then
// split, in fresh processes of this bench (`bench_startup --dlopen LIB...`),
// into the libraries Debian's libsimgrid needs (the ns-3 libraries, Boost,
// GSL...) loaded first, libsimgrid itself, and what is left: our module.
//
// Usage: bench_startup [VRINGSIM_BINARY] [STARTS]
#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <link.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef VRINGSIM_BINARY_DIR
#define VRINGSIM_BINARY_DIR "."
#endif
#ifndef VRINGSIM_SOURCE_DIR
#define VRINGSIM_SOURCE_DIR "."
#endif

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as the stamps

struct Started {
  Clock::time_point spawned, reaped;
  std::string output;  ///< what the process wrote to `capture_fd` (empty if none)
};

/// Runs `args` to completion with `extra_env` added, output discarded but for
/// `capture_fd` (1 or 2; 0: none), returned; throws if it fails.
Started run_once(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {},
                 int capture_fd = 0) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  for (const auto& e : extra_env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int fds[2] = {-1, -1};
  if (capture_fd && ::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2() failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (int fd : {1, 2}) {
    if (fd == capture_fd)
      posix_spawn_file_actions_adddup2(&fa, fds[1], fd);
    else
      posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", O_WRONLY, 0);
  }
  Started out;
  out.spawned = Clock::now();
  pid_t pid = 0;
  const int err = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (capture_fd) ::close(fds[1]);
  if (err != 0) {
    if (capture_fd) ::close(fds[0]);
    throw std::runtime_error("cannot start " + args[0]);
  }
  if (capture_fd) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.output.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.reaped = Clock::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("failed: " + args[1]);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

/// `bench_startup --dlopen LIB...`: loads each library in turn (RTLD_NOW |
/// RTLD_GLOBAL, as app/engine_loader.cpp loads the engine module), printing
/// "<ns> <lib>" for each, then "loaded <path>" for every object in the
/// process. Run in a fresh process, so nothing of them is loaded before.
int dlopen_mode(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    const auto t0 = Clock::now();
    if (!::dlopen(argv[i], RTLD_NOW | RTLD_GLOBAL)) {
      fmt::print(stderr, "bench_startup: {}\n", ::dlerror());
      return 1;
    }
    fmt::print("{} {}\n", std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count(), argv[i]);
  }
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) {
        if (info->dlpi_name && *info->dlpi_name) fmt::print("loaded {}\n", info->dlpi_name);
        return 0;
      },
      nullptr);
  return 0;
}

/// The seconds each --dlopen argument took, in order, and the objects loaded at the end.
std::pair<std::vector<double>, std::vector<std::string>> time_dlopen(const std::vector<std::string>& libs) {
  std::vector<std::string> args = {"/proc/self/exe", "--dlopen"};
  args.insert(args.end(), libs.begin(), libs.end());
  std::istringstream in(run_once(args, {}, 1).output);
  std::vector<double> times;
  std::vector<std::string> loaded;
  std::string word, rest;
  while (in >> word && std::getline(in >> std::ws, rest)) {
    if (word == "loaded")
      loaded.push_back(rest);
    else
      times.push_back(std::stod(word) * 1e-9);
  }
  return {times, loaded};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--dlopen") return dlopen_mode(argc, argv);
  const std::string bin = argc > 1 ? argv[1] : std::string(VRINGSIM_BINARY_DIR) + "/vringsim";
  const int starts = argc > 2 ? std::stoi(argv[2]) : 40;
  const std::string scenario = std::string(VRINGSIM_SOURCE_DIR) + "/scenarios/seed-2008/mergeable.json";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"--version", {bin, "--version"}},
      {"validate", {bin, "validate", scenario}},
      {"run 1 ms (loads the engine)",
       {bin, "run", scenario, "--set", "stop.time_s=0.001", "--set", "measure.warmup_s=0"}},
  };
  fmt::print("{:<30} {:>10} {:>10}\n", "command", "median ms", "best ms");
  for (const auto& [name, args] : cases) {
    std::vector<double> t;
    for (int i = 0; i < starts; ++i) {
      const Started s = run_once(args);
      t.push_back(std::chrono::duration<double>(s.reaped - s.spawned).count());
    }
    std::sort(t.begin(), t.end());
    fmt::print("{:<30} {:>10.1f} {:>10.1f}\n", name, t[t.size() / 2] * 1e3, t.front() * 1e3);
  }

  // Where a 1 us run's start goes: each step from the stamp before it.
  const std::vector<std::string> tiny = {
      bin, "run", scenario, "--set", "stop.time_s=0.000001", "--set", "measure.warmup_s=0"};
  // Each stamp (sim/core/startup_stamp.hpp), what leads up to it, and whose it is.
  const std::vector<std::array<std::string, 3>> steps = {
      {"main", "exec, ld.so loading vringsim's own libraries, static initialisers", "start"},
      {"scenarios loaded", "command line; scenario loading and validation", "ours"},
      {"loading engine", "report writers, output checks", "ours"},
      {"engine loaded", "dlopen of the engine module: SimGrid, ns-3, our module", "loading"},
      {"child forked", "run options, fork of the run's child", "ours"},
      {"building world", "child: into the engine", "ours"},
      {"SimGrid engine created", "SimGrid engine creation (s4u::Engine)", "SimGrid"},
      {"world built", "world building: platform, sources, queues, metrics", "ours"},
      {"engine runs", "run loop set-up: actors, sampler, controller", "ours"},
      {"run done", "first event to the end of the 1 us", "ours"},
      {"books closed", "the books (summary)", "ours"},
      {"result sent", "result to JSON, through the pipe", "ours"},
      {"command done", "parent: result decoded, table printed", "ours"},
      {"", "exit (static destructors, finalisers) to the bench's wait", "exit"},
  };
  // The engine module's load, split, in fresh processes of this bench:
  // libsimgrid's own dependencies loaded first, then libsimgrid; libsimgrid
  // alone; and libsimgrid after vringsim's own libraries (ld.so's list:
  // LD_TRACE_LOADED_OBJECTS), as in vringsim, where each symbol is looked up
  // through them too. What is left of the module's load is our module's.
  const std::vector<std::string> loaded = time_dlopen({"libsimgrid.so"}).second;
  const std::vector<std::string> self_loaded = time_dlopen({}).second;
  auto known = [](const std::vector<std::string>& v, const std::string& l) {
    return std::find(v.begin(), v.end(), l) != v.end();
  };
  std::vector<std::string> deps;  // what libsimgrid brought in that this bench did not have
  for (const auto& l : loaded)
    if (!known(self_loaded, l) && l.find("libsimgrid") == std::string::npos) deps.push_back(l);
  std::vector<std::string> own;  // vringsim's libraries that this bench does not have
  {
    std::istringstream in(run_once({bin}, {"LD_TRACE_LOADED_OBJECTS=1"}, 1).output);
    std::string name, arrow, path;
    while (in >> name) {
      std::string rest;
      std::getline(in, rest);
      std::istringstream r(rest);
      if (r >> arrow >> path && arrow == "=>" && !known(self_loaded, path)) own.push_back(path);
    }
  }

  std::map<std::string, std::vector<double>> spans;  // step -> seconds per start
  std::vector<double> totals;
  std::vector<double> sg_alone, deps_first, sg_after, sg_in_vringsim;
  for (int i = 0; i < starts; ++i) {
    const Started s = run_once(tiny, {"VRINGSIM_STARTUP_STAMPS=1"}, 2);
    std::map<std::string, Clock::time_point> at;
    std::istringstream in(s.output);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream l(line);
      std::string tag, step;
      long long ns = 0;
      if (!(l >> tag >> ns) || tag != "vringsim-stamp" || !std::getline(l >> std::ws, step)) continue;
      at.emplace(step, Clock::time_point(std::chrono::nanoseconds(ns)));
    }
    Clock::time_point prev = s.spawned;
    for (const auto& [step, what, whose] : steps) {
      const auto it = step.empty() ? at.end() : at.find(step);
      if (!step.empty() && it == at.end())
        throw std::runtime_error("no stamp \"" + step + "\" from " + bin + " (built before VRINGSIM_STARTUP_STAMPS?)");
      const Clock::time_point t = step.empty() ? s.reaped : it->second;
      spans[what].push_back(std::chrono::duration<double>(t - prev).count());
      prev = t;
    }
    totals.push_back(std::chrono::duration<double>(s.reaped - s.spawned).count());
    // In the same round, so that the machine's load weighs on both alike.
    sg_alone.push_back(time_dlopen({"libsimgrid.so"}).first.at(0));
    std::vector<std::string> libs = deps;
    libs.push_back("libsimgrid.so");
    const std::vector<double> t = time_dlopen(libs).first;
    double d = 0;
    for (size_t k = 0; k + 1 < t.size(); ++k) d += t[k];
    deps_first.push_back(d);
    sg_after.push_back(t.back());
    libs = own;
    libs.push_back("libsimgrid.so");
    sg_in_vringsim.push_back(time_dlopen(libs).first.back());
  }
  fmt::print("\na 1 us run, median of {} starts (each step from the one before):\n", starts);
  fmt::print("{:<66} {:>9} {:>9}\n", "step", "ms", "whose");
  std::map<std::string, double> by_whose;
  for (const auto& [step, what, whose] : steps) {
    const double ms = median(spans[what]) * 1e3;
    by_whose[whose] += ms;
    fmt::print("{:<66} {:>9.2f} {:>9}\n", what, ms, whose);
  }
  fmt::print("{:<66} {:>9.2f}\n", "whole run (median of the totals)", median(totals) * 1e3);

  size_t ns3 = 0;
  for (const auto& d : deps) ns3 += d.find("libns3") != std::string::npos;
  const std::vector<double>& engine = spans[steps[3][1]];
  fmt::print("\nthe engine module's load, in fresh processes of this bench:\n");
  fmt::print("{:<66} {:>9} {:>9}\n", "", "median ms", "best ms");
  auto line = [](const std::string& what, const std::vector<double>& t) {
    fmt::print("{:<66} {:>9.2f} {:>9.2f}\n", what, median(t) * 1e3, *std::min_element(t.begin(), t.end()) * 1e3);
  };
  line("in vringsim (the step above)", engine);
  line(fmt::format("libsimgrid.so with its {} libraries ({} of ns-3)", deps.size(), ns3), sg_alone);
  line(fmt::format("  its {} libraries, loaded first", deps.size()), deps_first);
  line("  libsimgrid itself, after them", sg_after);
  line(fmt::format("libsimgrid.so with them, after vringsim's {} other libraries", own.size()), sg_in_vringsim);
  std::vector<double> module;  // per start: the module's load less SimGrid's, both taken in the same round
  for (size_t i = 0; i < engine.size(); ++i) module.push_back(engine[i] - sg_in_vringsim[i]);
  // A difference of two noisy times: its median only (a best would be the noise's extreme).
  fmt::print("{:<66} {:>9.2f}\n", "our module (libvringsim_engine.so): the rest, round by round", median(module) * 1e3);
  fmt::print(
      "\nby whose (medians, ms): process start {:.2f}; loading SimGrid and ns-3 {:.2f}; our module's load {:.2f}; "
      "SimGrid's engine {:.2f}; ours {:.2f}; exit {:.2f}\n",
      by_whose["start"], median(sg_in_vringsim) * 1e3, median(module) * 1e3, by_whose["SimGrid"], by_whose["ours"],
      by_whose["exit"]);
  return 0;
}

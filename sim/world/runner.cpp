#include "sim/world/runner.hpp"

#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <optional>
#include <utility>
#include <vector>

#include "sim/core/errors.hpp"
#include "sim/core/startup_stamp.hpp"

namespace vringsim {

namespace {
bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}
}  // namespace

namespace {

/// A child running one scenario: its pid and the read end of its pipe.
struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string data;
};

Child start_child(const Scenario& scenario, const RunOptions& options) {
  int fds[2];
  load_engine();  // once, in the parent: every child shares it
  if (::pipe(fds) != 0) throw std::runtime_error("pipe() failed");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork() failed");
  if (pid == 0) {
    startup_stamp("child forked");
    ::close(fds[0]);
    int code = 0;
    try {
      const RunResult r = run_scenario(scenario, options);
      if (!write_all(fds[1], to_json(r).dump())) code = 4;
      startup_stamp("result sent");
    } catch (const InvariantError& e) {
      std::cerr << "vringsim: " << scenario.file << ": invariant broken: " << e.what() << "\n";
      code = 3;
    } catch (const std::exception& e) {
      // Not a broken invariant: an output that could not be written (a
      // --trace file on a full disk) is a failure of the work, exit 1.
      std::cerr << "vringsim: " << scenario.file << ": " << e.what() << "\n";
      code = 1;
    }
    std::cerr.flush();
    ::close(fds[1]);
    ::_exit(code);
  }
  ::close(fds[1]);
  return {pid, fds[0], {}};
}

/// Reads what is there; false at the end of the child's output.
bool read_some(Child& c) {
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    c.data.append(buf, static_cast<size_t>(n));
    return true;
  }
}

/// After the end of its output: waits for the child and decodes its result.
RunOutcome finish_child(Child& c, const Scenario& scenario) {
  ::close(c.fd);
  int status = 0;
  rusage usage{};
  while (::wait4(c.pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  RunOutcome out;
  out.max_rss_kb = usage.ru_maxrss;
  if (WIFEXITED(status))
    out.exit_code = WEXITSTATUS(status);
  else {
    std::cerr << "vringsim: " << scenario.file << ": simulation crashed (signal " << WTERMSIG(status) << ")\n";
    out.exit_code = 128 + WTERMSIG(status);
  }
  if (out.exit_code == 0) out.result = run_result_from_json(Json::parse(c.data));
  return out;
}

}  // namespace

RunOutcome run_in_child(const Scenario& scenario, const RunOptions& options) {
  Child c = start_child(scenario, options);
  while (read_some(c)) {
  }
  return finish_child(c, scenario);
}

std::vector<RunOutcome> run_in_children(const std::vector<Scenario>& scenarios, const RunOptions& options,
                                        unsigned jobs) {
  std::vector<RunOutcome> out(scenarios.size());
  run_in_children(scenarios, std::vector<RunOptions>(scenarios.size(), options), jobs,
                  [&out](size_t i, RunOutcome&& o) { out[i] = std::move(o); });
  return out;
}

void run_in_children(const std::vector<Scenario>& scenarios, const std::vector<RunOptions>& options, unsigned jobs,
                     const std::function<void(size_t, RunOutcome&&)>& done) {
  std::vector<std::optional<RunOutcome>> finished(scenarios.size());
  std::vector<std::pair<size_t, Child>> running;  // (scenario index, child)
  size_t next = 0, handed = 0;
  while (next < scenarios.size() || !running.empty()) {
    while (running.size() < std::max(1u, jobs) && next < scenarios.size()) {
      running.emplace_back(next, start_child(scenarios[next], options[next]));
      ++next;
    }
    std::vector<pollfd> fds;
    for (const auto& [i, c] : running) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("poll() failed");
    }
    for (size_t k = running.size(); k-- > 0;) {
      if (!fds[k].revents) continue;
      auto& [i, c] = running[k];
      if (read_some(c)) continue;
      finished[i] = finish_child(c, scenarios[i]);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
    }
    for (; handed < scenarios.size() && finished[handed]; ++handed) {
      done(handed, std::move(*finished[handed]));
      finished[handed].reset();
    }
  }
}

}  // namespace vringsim

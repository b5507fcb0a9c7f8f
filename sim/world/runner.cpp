#include "sim/world/runner.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

#include "sim/core/errors.hpp"

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

RunOutcome run_in_child(const Scenario& scenario, const RunOptions& options) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe() failed");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork() failed");
  if (pid == 0) {
    ::close(fds[0]);
    int code = 0;
    try {
      const RunResult r = run_scenario(scenario, options);
      if (!write_all(fds[1], to_json(r).dump())) code = 4;
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
  std::string data;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  RunOutcome out;
  out.max_rss_kb = usage.ru_maxrss;
  if (WIFEXITED(status))
    out.exit_code = WEXITSTATUS(status);
  else {
    std::cerr << "vringsim: " << scenario.file << ": simulation crashed (signal " << WTERMSIG(status) << ")\n";
    out.exit_code = 128 + WTERMSIG(status);
  }
  if (out.exit_code == 0) out.result = run_result_from_json(Json::parse(data));
  return out;
}

}  // namespace vringsim

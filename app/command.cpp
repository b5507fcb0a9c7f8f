#include "app/command.hpp"

#include <fmt/format.h>

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "sim/core/errors.hpp"

namespace vringsim {

uint64_t parse_decimal(const std::string& option, const std::string& text, uint64_t lo, uint64_t hi) {
  const bool digits = !text.empty() && text.size() <= 20 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  errno = 0;
  const unsigned long long v = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE || v < lo || v > hi)
    throw InputError(fmt::format("{} {}: expected a decimal integer in {}..{}", option,
                                 text.empty() ? std::string("\"\"") : brief(text, 40), lo, hi));
  return v;
}

/// A Slurm task's CPUs (SLURM_CPUS_PER_TASK), else the affinity mask a
/// cgroup, taskset or the scheduler grants, never more than the machine has
/// (hardware_concurrency ignored all of these).
std::pair<unsigned, const char*> default_jobs() {
  if (const char* slurm = std::getenv("SLURM_CPUS_PER_TASK")) {
    char* end = nullptr;
    const long n = std::strtol(slurm, &end, 10);
    if (end != slurm && *end == 0 && n >= 1 && n <= 4096) return {static_cast<unsigned>(n), "SLURM_CPUS_PER_TASK"};
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return {static_cast<unsigned>(CPU_COUNT(&set)), "the CPU affinity mask"};
  return {std::max(1u, std::thread::hardware_concurrency()), "the machine's cores"};
}

unsigned jobs_option(const std::string& text) {
  return text.empty() ? default_jobs().first : static_cast<unsigned>(parse_decimal("--jobs", text, 1, 4096));
}

}  // namespace vringsim

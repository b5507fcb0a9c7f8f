// Where a run's start goes, for bench/bench_startup.cpp: with the environment
// variable VRINGSIM_STARTUP_STAMPS set (to anything not empty), each step of
// a start writes one line "vringsim-stamp <ns> <step>" to stderr, <ns> read
// from CLOCK_MONOTONIC, the clock every process of the machine shares (the
// bench's std::chrono::steady_clock), so the bench can set them against the
// instant it started the process. Unset, a stamp is one test of a flag read
// once. The line is written with one write(2), unbuffered, so a forked
// child's stamps land in order with its parent's.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace vringsim {

inline void startup_stamp(const char* step) {
  static const bool on = [] {
    const char* env = std::getenv("VRINGSIM_STARTUP_STAMPS");
    return env != nullptr && *env != '\0';
  }();
  if (!on) return;
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[160];
  const int n = std::snprintf(line, sizeof line, "vringsim-stamp %lld %s\n",
                              static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec, step);
  if (n > 0) (void)!::write(2, line, static_cast<size_t>(n < static_cast<int>(sizeof line) ? n : sizeof line - 1));
}

}  // namespace vringsim

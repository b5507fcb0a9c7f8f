// The yardstick the benches divide by: a bare discrete-event loop, a binary
// heap of (time, sequence, payload) events where each popped event schedules
// one more at an exponential delay, with 1000 pending. It does nothing a
// simulator could skip, so what a simulated packet costs against it survives
// a noisy or slower machine better than packets per second alone.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <vector>

namespace vringsim::bench {

/// Events per wall-second of the bare loop, best of `repeats` runs of `events` events.
inline double bare_loop_events_per_s(uint64_t events = 20'000'000, int repeats = 3) {
  struct Event {
    double time;
    uint64_t seq;
    uint64_t payload;
    bool operator>(const Event& o) const { return time > o.time || (time == o.time && seq > o.seq); }
  };
  double best = 1e300;
  uint64_t sink = 0;
  for (int r = 0; r < repeats; ++r) {
    std::mt19937_64 rng(42);
    std::exponential_distribution<double> delay(1.0);
    std::priority_queue<Event, std::vector<Event>, std::greater<>> heap;
    uint64_t seq = 0;
    for (int i = 0; i < 1000; ++i) heap.push({delay(rng), seq++, 0});
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t n = 0; n < events; ++n) {
      const Event e = heap.top();
      heap.pop();
      sink += e.payload;
      heap.push({e.time + delay(rng), seq++, e.payload + 1});
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  // The payloads' sum is used, so the loop cannot be optimised away.
  return sink == 0 ? 0.0 : static_cast<double>(events) / best;
}

}  // namespace vringsim::bench

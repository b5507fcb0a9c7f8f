// The run's one clock: integer nanoseconds since the run began (issue 32).
//
// Every instant the queue engine keeps (the task loop's clock, its timers
// and timeouts, each side's lookahead, a core's turn, the stop time, the
// sampler's instants) is a SimTime. Equal instants are equal integers and a
// sum of durations is exact: the rules of docs/model.md §7 ("Simultaneous
// instants") compare keys, never doubles within a tolerance.
//
// What the model computes comes as doubles (the cost model's nanoseconds, a
// latency, an exponential draw, a date in seconds). It enters the clock by
// one rule: rounded UP to the next whole nanosecond (to_sim_time,
// ns_to_sim_time). Why up, not to the nearest:
//   - a task never wakes before the date it asked for: after a sleep until
//     x the clock reads at least x, which the device's and the driver's
//     loops rely on (a date a fraction of a nanosecond past the clock would
//     be slept towards again, at once, for ever), and a date compares with
//     the clock the same way in seconds and in nanoseconds: x <= seconds(n)
//     exactly when to_sim_time(x) <= n;
//   - every nonzero duration lasts at least 1 ns, as every sleep did on
//     SimGrid's clock (surf/precision, 1 ns, was each sleep's minimum):
//     work that costs something never ends at the instant it began.
// Its price: a date off the grid is reached up to 1 ns late (0.5 ns on
// average), once per wait.
//
// Only the sampler, the controller and the end of the run are SimGrid's,
// which keeps double seconds: seconds() gives it the nearest double and
// from_engine_seconds() takes it back (to the nearest nanosecond: SimGrid's
// clock moves from c to D as c + (D - c), which may miss D by an ulp). The
// world sets SimGrid's timing precision to kEnginePrecisionS, under a
// nanosecond, so that SimGrid never ends two different nanoseconds in one
// step.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace vringsim {

/// An instant or a duration of the run: whole nanoseconds.
using SimTime = int64_t;

/// Never (a wait only the other side ends; the sampler stopped).
inline constexpr SimTime kNever = std::numeric_limits<SimTime>::max();
/// Unknown, any time (a wait for a shared core: whoever frees one decides).
inline constexpr SimTime kAnyTime = std::numeric_limits<SimTime>::min();

/// `t` in seconds: the nearest double (SimGrid's clock, the world's dates).
inline double seconds(SimTime t) { return static_cast<double>(t) / 1e9; }

/// The rule, for a date or a duration in seconds: the first whole
/// nanosecond n with seconds(n) >= `s` (+infinity: kNever).
inline SimTime to_sim_time(double s) {
  if (!(s < 9e9)) return kNever;  // beyond 285 years, or infinity
  if (!(s > -9e9)) return kAnyTime;
  const double ns = s * 1e9;
  // A whole nanosecond near ns (the nearest, or next to it where ns is
  // within an ulp of a half): what the tests below need, without a call
  // to llround (this runs a few times a packet).
  const SimTime n = ns >= 0 ? static_cast<SimTime>(ns + 0.5) : -static_cast<SimTime>(0.5 - ns);
  // Off a whole nanosecond by more than s x 1e9's rounding (an ulp: under
  // 0.25 ns below 2^51 ns, 26 days), the ceiling is plain; on one, the
  // grid's double decides, so that comparisons in seconds and in
  // nanoseconds agree. (Dates are converted several times a packet: this
  // spares the divisions.)
  if (ns - static_cast<double>(n) > 0.25) return n + 1;
  if (static_cast<double>(n) - ns > 0.25) return n;
  return seconds(n) >= s ? n : n + 1;
}
/// The rule, for a duration in nanoseconds (a cost): rounded up.
inline SimTime ns_to_sim_time(double ns) {
  if (!(ns < 9e18)) return kNever;
  return static_cast<SimTime>(std::ceil(ns));
}

/// SimGrid's clock, on the grid: the inverse of seconds().
inline SimTime from_engine_seconds(double s) { return static_cast<SimTime>(std::llround(s * 1e9)); }

/// SimGrid's timing precision (precision/timing) for a run: a tenth of a
/// nanosecond, so that its timers at two different nanoseconds never end in
/// one step, and far above the ulps of its clock (1e-13 s at 1000 s).
inline constexpr double kEnginePrecisionS = 1e-10;

}  // namespace vringsim

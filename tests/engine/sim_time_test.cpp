// The run's clock (sim/engine/sim_time.hpp): integer nanoseconds, and the
// one rule by which the model's doubles enter it (rounded up).
#include <gtest/gtest.h>

#include <cmath>

#include "sim/core/rng.hpp"
#include "sim/engine/sim_time.hpp"

namespace vringsim {
namespace {

TEST(SimTime, TheModelsDoublesAreRoundedUpToTheNextNanosecond) {
  EXPECT_EQ(to_sim_time(0.0), 0);
  EXPECT_EQ(to_sim_time(2e-6), 2000);
  EXPECT_EQ(to_sim_time(2e-6 + 0.4e-9), 2001);  // never before the date asked for
  EXPECT_EQ(to_sim_time(1e-12), 1);             // a nonzero duration lasts at least 1 ns
  EXPECT_EQ(to_sim_time(3e-7 + 1e-6), 1300);    // 1.2999999999999998e-06 s
  EXPECT_EQ(to_sim_time(1.0), 1'000'000'000);
  EXPECT_EQ(ns_to_sim_time(1500.0), 1500);
  EXPECT_EQ(ns_to_sim_time(378.5), 379);  // 1514 bytes at 0.25 ns a byte
  EXPECT_EQ(ns_to_sim_time(0.0), 0);
  EXPECT_EQ(to_sim_time(INFINITY), kNever);
  EXPECT_EQ(ns_to_sim_time(INFINITY), kNever);
}

TEST(SimTime, WholeNanosecondsGoToSecondsAndBackExactly) {
  for (const SimTime n : {SimTime{0}, SimTime{1}, SimTime{999}, SimTime{1'000'000'000}, SimTime{123'456'789'012},
                          SimTime{3'600'000'000'000}, SimTime{86'400'000'000'001}}) {
    EXPECT_EQ(to_sim_time(seconds(n)), n) << n;
    EXPECT_EQ(from_engine_seconds(seconds(n)), n) << n;
  }
}

TEST(SimTime, ADateComparesWithTheClockAsInSeconds) {
  // to_sim_time(x) is the first nanosecond n with seconds(n) >= x: a date
  // and a clock reading compare the same way in either unit.
  Rng rng(32, "sim-time-test");
  for (int i = 0; i < 100'000; ++i) {
    const double x = rng.uniform() * std::pow(10.0, static_cast<double>(rng.uniform_int(0, 12)) - 9.0);
    const SimTime n = to_sim_time(x);
    ASSERT_GE(seconds(n), x) << x;
    ASSERT_LT(seconds(n - 1), x) << x;
  }
  // And where the rounding is closest: a few ulps either side of a whole
  // nanosecond and of a half, up to a day.
  for (int i = 0; i < 100'000; ++i) {
    const auto whole = static_cast<double>(rng.uniform_int(0, 86'400'000'000'000));
    double x = (whole + (rng.chance(0.5) ? 0.0 : 0.5)) / 1e9;
    for (int k = rng.uniform_int(0, 8); k > 0; --k) x = std::nextafter(x, rng.chance(0.5) ? 1.0 : -1.0);
    if (x < 0) continue;
    const SimTime n = to_sim_time(x);
    ASSERT_GE(seconds(n), x) << x;
    ASSERT_LT(seconds(n - 1), x) << x;
  }
}

}  // namespace
}  // namespace vringsim

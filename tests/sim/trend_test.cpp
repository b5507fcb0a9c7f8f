#include "sim/core/trend.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace vringsim {
namespace {

TEST(Trend, ALineIsFoundExactly) {
  std::vector<double> t, y;
  for (int i = 0; i < 100; ++i) {
    t.push_back(0.001 * i);
    y.push_back(3.0 + 5000.0 * 0.001 * i);  // 5000 per second
  }
  const Trend tr = fit_trend(t, y);
  EXPECT_NEAR(tr.slope, 5000.0, 1e-6);
  EXPECT_NEAR(tr.r2, 1.0, 1e-12);
}

TEST(Trend, AFlatOrOscillatingLevelHasNoTrend) {
  std::vector<double> t, flat, wave;
  for (int i = 0; i < 1000; ++i) {
    t.push_back(0.001 * i);
    flat.push_back(500);
    wave.push_back(250 + 200 * std::sin(0.5 * i));
  }
  EXPECT_EQ(fit_trend(t, flat).slope, 0.0);
  EXPECT_EQ(fit_trend(t, flat).r2, 0.0);
  EXPECT_LT(std::fabs(fit_trend(t, wave).slope) * 1.0, 25.0);  // under 5% of the swing over the second
  EXPECT_LT(fit_trend(t, wave).r2, 0.05);
}

TEST(Trend, TooFewPointsSayNothing) {
  EXPECT_EQ(fit_trend({0, 1}, {0, 5}).points, 2u);
  EXPECT_EQ(fit_trend({0, 1}, {0, 5}).slope, 0.0);
}

}  // namespace
}  // namespace vringsim

#include "sim/core/collector.hpp"

#include <gtest/gtest.h>

#include "sim/core/rng.hpp"

namespace vringsim {
namespace {

TEST(LatencyHistogram, IsExactBelow2048NanosecondsAndWithin1Part2048Above) {
  LatencyHistogram h;
  for (int ns = 1; ns <= 100; ++ns) h.add(ns * 1e-9);
  EXPECT_DOUBLE_EQ(h.percentile_us(50), 0.050);
  EXPECT_DOUBLE_EQ(h.percentile_us(99), 0.099);
  EXPECT_DOUBLE_EQ(h.max_us(), 0.100);
  EXPECT_DOUBLE_EQ(h.mean_us(), 0.0505);

  // Wide random sample: every nearest-rank percentile is within 1/2048 of the exact one.
  LatencyHistogram g;
  std::vector<double> v;
  Rng rng(5, "lat");
  for (int i = 0; i < 20000; ++i) {
    const double s = std::round(rng.exponential(1e-3) * 1e9) * 1e-9;  // whole nanoseconds, mean 1 ms
    v.push_back(s * 1e6);
    g.add(s);
  }
  std::sort(v.begin(), v.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
    const double exact = v[static_cast<size_t>(std::ceil(p / 100 * v.size())) - 1];
    EXPECT_NEAR(g.percentile_us(p), exact, exact / 2048 + 1e-9) << p;
  }
  EXPECT_DOUBLE_EQ(g.max_us(), v.back());
}

TEST(Collector, BusySpansCountTheirUnionInsideTheMeasuredWindow) {
  Collector c(1.0);  // warm-up ends at 1 s
  auto busy = [&](double a, double b) {
    Event e;
    e.time = a;
    e.kind = EventKind::HostBusy;
    e.until = b;
    c.on_event(e);
  };
  busy(0.5, 1.5);  // half before the window
  busy(1.2, 1.7);  // overlaps the previous span by 0.3
  busy(2.0, 2.5);
  c.finish(3.0);
  EXPECT_NEAR(c.summary(3.0)["cpu"]["host_utilization"].get<double>(), (0.7 + 0.5) / 2.0, 1e-12);
}

}  // namespace
}  // namespace vringsim

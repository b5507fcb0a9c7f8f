// The metric plug-ins, each through the interface the world uses: made from
// the registry, attached to a scope's signals, fed events, asked to write.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "models/metrics/ring_occupancy.hpp"
#include "sim/core/faults.hpp"
#include "sim/core/latency_histogram.hpp"
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/span_union.hpp"

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
  for (int tenths : {10, 500, 900, 990, 999}) {
    // Nearest rank ceil(p/100 * n), in integers (p/100 * n in doubles puts
    // 99.9% of 20000 at 19980.000000000004, one rank too far).
    const size_t rank = (static_cast<size_t>(tenths) * v.size() + 999) / 1000;
    const double exact = v[rank - 1];
    const double p = tenths / 10.0;
    EXPECT_NEAR(g.percentile_us(p), exact, exact / 2048 + 1e-9) << p;
  }
  EXPECT_DOUBLE_EQ(g.max_us(), v.back());
}

// A few hundred samples over milliseconds keep a few KB (a 512-queue run has
// one histogram per queue and per guest), and the dense array that replaces
// them past 16384 samples answers exactly as they did: k copies of a sample
// have the same nearest-rank percentiles as the sample.
TEST(LatencyHistogram, StaysSmallWhileSparseAndAnswersAlikeOnceDense) {
  std::vector<double> sample;
  Rng rng(9, "lat");
  for (int i = 0; i < 300; ++i) sample.push_back(std::round(rng.exponential(1e-3) * 1e9) * 1e-9);
  LatencyHistogram few, many;
  for (double s : sample) few.add(s);
  for (int k = 0; k < 60; ++k)
    for (double s : sample) many.add(s);
  EXPECT_FALSE(few.dense());
  EXPECT_LE(few.bucket_bytes(), 300u * 8 * 2);  // 8 bytes a bucket, vector growth at most doubles
  EXPECT_TRUE(many.dense());                    // 18000 samples
  EXPECT_GE(many.bucket_bytes(), 60000u);       // the dense array up to ~8 ms
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 100.0})
    EXPECT_DOUBLE_EQ(few.percentile_us(p), many.percentile_us(p)) << p;
  EXPECT_DOUBLE_EQ(few.max_us(), many.max_us());
  EXPECT_NEAR(few.mean_us(), many.mean_us(), 1e-9 * few.mean_us());
}

std::unique_ptr<Metric> make(const std::string& name, double warmup_s, uint32_t ring_entries = 256) {
  const MetricInfo* info = Registry<MetricInfo>::instance().find(name);
  EXPECT_NE(info, nullptr) << name;
  return info->create(MetricContext{warmup_s, ring_entries, nullptr});
}

TEST(Metrics, EveryMetricNamesAndDescribesItself) {
  const auto all = Registry<MetricInfo>::instance().all();
  EXPECT_GE(all.size(), 10u);
  for (const MetricInfo* m : all) {
    EXPECT_FALSE(m->description.empty()) << m->name;
    EXPECT_TRUE(m->create) << m->name;
  }
}

TEST(Metrics, CpuBusySpansCountTheirUnionInsideTheMeasuredWindow) {
  auto cpu = make("cpu", 1.0);  // warm-up ends at 1 s
  EventBus bus;
  cpu->attach(bus.run());
  auto busy = [&](double a, double b) {
    bus.emit(CpuBusy{.time = a, .cpu = Cpu::Host, .start = to_sim_time(a), .end = to_sim_time(b)});
  };
  busy(0.5, 1.5);  // half before the window
  busy(1.2, 1.7);  // overlaps the previous span by 0.3
  busy(2.0, 2.5);
  cpu->finish(3.0);
  Json j;
  cpu->write(j, 3.0);
  EXPECT_NEAR(j["cpu"]["host_utilization"].get<double>(), (0.7 + 0.5) / 2.0, 1e-12);
  EXPECT_EQ(j["cpu"]["guest_utilization"].get<double>(), 0.0);
}

TEST(Metrics, RingOccupancy_SharesOfTimeByPostedDescriptors_InSixteenBuckets) {
  // A 256-entry ring: buckets of 16 descriptors. Warm-up 1 s, end 5 s.
  auto m = make("ring_occupancy", 1.0, 256);
  Signals s;
  m->attach(s);
  s.emit(BuffersPosted{.time = 0.5, .chains = 12, .bytes = 0, .descriptors = 240});  // bucket 15 from 0.5 s
  s.emit(BuffersTaken{.time = 2.0, .chains = 1, .descriptors = 20});                  // 220: bucket 13 from 2 s
  s.emit(BadChainFound{.time = 3.0, .consumed = 1, .descriptors = 220});              // 0: bucket 0 from 3 s
  s.emit(BuffersPosted{.time = 4.5, .chains = 1, .bytes = 0, .descriptors = 256});    // full: bucket 15
  m->finish(5.0);
  Json j;
  m->write(j, 5.0);
  const Json& o = j["ring"]["occupancy"];
  EXPECT_EQ(o["bucket_descriptors"].get<double>(), 16.0);
  ASSERT_EQ(o["share"].size(), 16u);
  EXPECT_DOUBLE_EQ(o["share"]["15"].get<double>(), (1.0 + 0.5) / 4.0);  // 1..2 s and 4.5..5 s
  EXPECT_DOUBLE_EQ(o["share"]["13"].get<double>(), 1.0 / 4.0);
  EXPECT_DOUBLE_EQ(o["share"]["0"].get<double>(), 1.5 / 4.0);
  double sum = 0;
  for (const auto& [k, v] : o["share"].items()) sum += v.get<double>();
  EXPECT_DOUBLE_EQ(sum, 1.0);
}

TEST(Metrics, RingOccupancy_BucketsAreEqualSixteenthsAndAFullRingIsInTheLast) {
  const RingOccupancy m(MetricContext{0.0, 256, nullptr});
  EXPECT_EQ(m.bucket(0), 0);
  EXPECT_EQ(m.bucket(15), 0);
  EXPECT_EQ(m.bucket(16), 1);
  EXPECT_EQ(m.bucket(255), 15);
  EXPECT_EQ(m.bucket(256), 15);
  const RingOccupancy small(MetricContext{0.0, 4, nullptr});  // fewer entries than buckets
  EXPECT_EQ(small.bucket(1), 4);
  EXPECT_EQ(small.bucket(4), 15);
}

TEST(Metrics, RingOccupancy_RunTotalIsTheMeanOfTheQueues) {
  auto m = make("ring_occupancy", 0.0, 512);  // the run over two 256-entry rings
  Json a, b, run;
  for (int i = 0; i < 16; ++i) {
    a["ring"]["occupancy"]["share"][std::to_string(i)] = i == 0 ? 1.0 : 0.0;
    b["ring"]["occupancy"]["share"][std::to_string(i)] = i == 15 ? 1.0 : 0.0;
  }
  const Json* parts[] = {&a, &b};
  m->total_from_queues(run, parts, Capacity{2, 1, 1});
  EXPECT_EQ(run["ring"]["occupancy"]["bucket_descriptors"].get<double>(), 16.0);
  EXPECT_EQ(run["ring"]["occupancy"]["share"]["0"].get<double>(), 0.5);
  EXPECT_EQ(run["ring"]["occupancy"]["share"]["15"].get<double>(), 0.5);
  EXPECT_EQ(run["ring"]["occupancy"]["share"]["7"].get<double>(), 0.0);
}

TEST(Metrics, RingOccupancy_MoreTakenThanPostedIsABug) {
  auto m = make("ring_occupancy", 0.0, 256);
  Signals s;
  m->attach(s);
  EXPECT_THROW(s.emit(BuffersTaken{.time = 1.0, .descriptors = 1}), InvariantError);
}

TEST(Metrics, LatencyPercentilesIncludeP90AndP999) {
  auto m = make("latency", 0.0);
  Signals s;
  m->attach(s);
  for (int ns = 1; ns <= 1000; ++ns)  // 1..1000 ns: exact below 2048 ns
    s.emit(FrameDelivered{.time = 1.0, .arrival_s = 1.0 - ns * 1e-9});
  Json j;
  m->write(j, 2.0);
  EXPECT_NEAR(j["latency_us"]["p90"].get<double>(), 0.900, 1e-9);
  EXPECT_NEAR(j["latency_us"]["p99_9"].get<double>(), 0.999, 1e-9);
  EXPECT_NEAR(j["latency_us"]["p50"].get<double>(), 0.500, 1e-9);
}

TEST(Metrics, PacketsGiveMppsBesideGbps) {
  auto m = make("packets", 0.0);
  Signals s;
  m->attach(s);
  for (int i = 0; i < 3000; ++i) s.emit(FrameDelivered{.time = 0.5, .len = 1514});
  Json j;
  m->write(j, 1.0);  // 3000 frames in 1 s
  EXPECT_DOUBLE_EQ(j["throughput"]["delivered_mpps"].get<double>(), 0.003);
  EXPECT_DOUBLE_EQ(j["throughput"]["delivered_pps"].get<double>(), 3000.0);
}

TEST(Metrics, ARunOfDropsCountsAsItsFramesArrivingAndDroppedEachOne) {
  // FramesDropped stands for a FrameArrived and a FrameDropped of each of
  // its frames: every metric that watches those must end in the same state
  // (summary keys and sampled columns), whichever it was fed.
  const std::vector<uint32_t> lens = {60, 1514, 590, 1514, 9014};
  const FaultPlan no_faults;
  for (const double at : {0.5, 1.5}) {  // before and after the warm-up (1 s)
    for (const MetricInfo* info : Registry<MetricInfo>::instance().all()) {
      auto single = info->create(MetricContext{1.0, 256, &no_faults});
      auto run = info->create(MetricContext{1.0, 256, &no_faults});
      Signals a, b;
      single->attach(a);
      run->attach(b);
      uint64_t bytes = 0;
      for (size_t i = 0; i < lens.size(); ++i) {
        const double t = at + 1e-6 * static_cast<double>(i);
        a.emit(FrameArrived{.time = t, .packet = 7 + i, .len = lens[i]});
        a.emit(FrameDropped{.time = t, .packet = 7 + i, .len = lens[i], .arrival_s = t, .reason = DropReason::TapFull});
        bytes += lens[i];
      }
      b.emit(FramesDropped{.time = at,
                           .packet = 7,
                           .count = static_cast<uint32_t>(lens.size()),
                           .bytes = bytes,
                           .last = at + 4e-6,
                           .reason = DropReason::TapFull});
      for (auto* m : {single.get(), run.get()}) m->finish(2.0);
      Json ja, jb;
      single->write(ja, 2.0);
      run->write(jb, 2.0);
      EXPECT_EQ(ja.dump(), jb.dump()) << info->name << " at " << at;
      std::vector<double> ra, rb;
      single->sample(ra);
      run->sample(rb);
      EXPECT_EQ(ra, rb) << info->name << " at " << at;
    }
  }
  // And the counts are the run's.
  auto m = make("packets", 1.0);
  Signals s;
  m->attach(s);
  s.emit(FramesDropped{.time = 1.5, .count = 3, .bytes = 4542, .last = 1.6, .reason = DropReason::DeviceBroken});
  Json j;
  m->write(j, 2.0);
  EXPECT_EQ(j["packets"]["arrived"], 3u);
  EXPECT_EQ(j["packets"]["dropped"], 3u);
  EXPECT_EQ(j["bytes"]["dropped"], 4542u);
  EXPECT_EQ(j["drops"]["device_broken"], 3u);
  EXPECT_EQ(j["throughput"]["dropped_packets"], 3u);
}

TEST(Signals, EachEventReachesItsOwnSignalAndTheClockFirst) {
  Signals s;
  std::vector<std::string> seen;
  s.on_time().connect([&](double t) { seen.push_back("time " + std::to_string(static_cast<int>(t))); });
  s.on<FrameArrived>().connect([&](const FrameArrived& e) { seen.push_back("arrived " + std::to_string(e.len)); });
  s.on<FrameDropped>().connect([&](const FrameDropped&) { seen.push_back("dropped"); });
  s.emit(FrameArrived{.time = 1, .len = 60});
  s.emit(InterruptRaised{.time = 2});  // nobody listens: only the clock hears it
  EXPECT_EQ(seen, (std::vector<std::string>{"time 1", "arrived 60", "time 2"}));
}

TEST(SpanUnion, CountsEachNanosecondOnceInWhateverOrderTheSpansCome) {
  // From a window starting at 100 ns: [50,150) counts 50, [140,200) adds
  // 50 (150..200), [300,310) 10, [305,400) 90, [200,300) 100 (it joins the
  // first two to the last two), [900,950) 50, [950,960) touches it: 10.
  // Union inside the window: [100,400) and [900,960): 360 ns.
  std::vector<std::pair<SimTime, SimTime>> spans = {{50, 150},  {140, 200}, {300, 310}, {305, 400},
                                                    {200, 300}, {900, 950}, {950, 960}};
  std::sort(spans.begin(), spans.end());
  int orders = 0;
  do {
    SpanUnion u(100);
    for (const auto& [a, b] : spans) u.add(a, b, /*settled=*/0);
    ASSERT_EQ(u.busy(), 360) << "order " << orders;
    ++orders;
  } while (std::next_permutation(spans.begin(), spans.end()));
  EXPECT_EQ(orders, 5040);
}

TEST(SpanUnion, KeepsOnlyWhatALaterSpanCanReachAndRefusesASpanBeforeIt) {
  SpanUnion u;
  for (SimTime t = 0; t < 1000; t += 10) u.add(t, t + 5, /*settled=*/t);  // each settled at its start
  EXPECT_EQ(u.busy(), 500);
  EXPECT_EQ(u.kept(), 1u);  // only the last: every earlier one ends before the settled instant
  u.add(994, 1001, 990);    // overlaps the last span's final nanosecond (994..995), after the settled 990
  EXPECT_EQ(u.busy(), 500 + 6);
  // A span published after the bus settled 1,000 that starts before the
  // end of a span let go: the engine broke its promise, never a silent miscount.
  u.add(2000, 2001, 1500);
  EXPECT_THROW(u.add(1000, 1002, 1500), InvariantError);
  // Late, and overlapping a span let go by the same call: refused too, not
  // counted twice (the check once ran before letting go).
  SpanUnion late;
  late.add(10, 20, 0);
  EXPECT_THROW(late.add(15, 25, 30), InvariantError);
  // Late but past every span let go: the union is still exact.
  SpanUnion gap;
  gap.add(10, 20, 0);
  gap.add(25, 28, 30);
  EXPECT_EQ(gap.busy(), 13);
}

TEST(EventBus, AKindOnlyUnorderedSlotsWantNeverWaitsInTheBus) {
  EventBus bus(2);
  std::vector<SimTime> unordered, ordered;
  bus.run().on<CpuBusy>().connect_unordered([&](const CpuBusy& e) { unordered.push_back(e.start); });
  bus.emit(CpuBusy{.time = 2e-9, .queue = 1, .start = 2, .end = 3});
  bus.emit(CpuBusy{.time = 1e-9, .queue = 0, .start = 1, .end = 2});
  // Taken at once, in the order published; nothing buffered, nothing counted as through the bus.
  EXPECT_EQ(unordered, (std::vector<SimTime>{2, 1}));
  EXPECT_EQ(bus.pending(), 0u);
  EXPECT_EQ(bus.emitted(), 0u);
  // The latest time an unordered slot saw (the run checks it against its end);
  // an event no unordered slot wants does not count.
  EXPECT_EQ(bus.published_until(), 2e-9);
  bus.emit(StallBegan{.time = 100.0});
  EXPECT_EQ(bus.published_until(), 2e-9);
  // An ordered slot on queue 1 alone: queue 1's events of that kind take
  // their turn (and still reach the unordered slot at once); queue 0's do not wait.
  bus.queue(1).on<CpuBusy>().connect([&](const CpuBusy& e) { ordered.push_back(e.start); });
  bus.emit(CpuBusy{.time = 5e-9, .queue = 1, .start = 5, .end = 6});
  bus.emit(CpuBusy{.time = 4e-9, .queue = 0, .start = 4, .end = 5});
  EXPECT_EQ(unordered, (std::vector<SimTime>{2, 1, 5, 4}));
  EXPECT_EQ(bus.pending(), 1u);
  EXPECT_TRUE(ordered.empty());
  bus.advance(5e-9);
  EXPECT_EQ(ordered, (std::vector<SimTime>{5}));
  EXPECT_EQ(bus.run().settled(), 5);
  // on_time wants every event of its scope in its turn.
  bus.run().on_time().connect([](double) {});
  bus.emit(CpuBusy{.time = 6e-9, .queue = 0, .start = 6, .end = 7});
  EXPECT_EQ(bus.pending(), 1u);  // (the StallBegan, which nobody wanted then, was dropped)
  EXPECT_EQ(bus.published_until(), 6e-9);
}

TEST(EventBus, DispatchesInTimeThenPublicationOrderToTheRunAndTheQueue) {
  EventBus bus(2);
  std::vector<std::string> run, q1;
  bus.run().on<FrameArrived>().connect([&](const FrameArrived& e) { run.push_back(std::to_string(e.packet)); });
  bus.queue(1).on<FrameArrived>().connect([&](const FrameArrived& e) { q1.push_back(std::to_string(e.packet)); });
  bus.emit(FrameArrived{.time = 2.0, .queue = 0, .packet = 1});
  bus.emit(FrameArrived{.time = 1.0, .queue = 1, .packet = 2});
  bus.emit(FrameArrived{.time = 1.0, .queue = 1, .packet = 3});  // same time: publication order
  bus.advance(1.5);
  EXPECT_EQ(run, (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(bus.pending(), 1u);
  bus.advance(2.0);
  EXPECT_EQ(run, (std::vector<std::string>{"2", "3", "1"}));
  EXPECT_EQ(q1, (std::vector<std::string>{"2", "3"}));
}

TEST(EventBus, AnyMixOfStreamsAndLateEventsComesOutInTimeThenPublicationOrder) {
  // Three kinds over three queues, times mostly rising per stream with some
  // stamped earlier than their stream's last (they take the late heap), some
  // equal, advanced in uneven steps and emitted between steps as the actors
  // do. The dispatch order must be exactly a sort by (time, publication).
  std::mt19937_64 rng(2026);
  for (int trial = 0; trial < 50; ++trial) {
    EventBus bus(3);
    std::vector<std::pair<double, uint64_t>> emitted, seen;  // (time, publication number)
    uint64_t n = 0;
    auto record = [&](double t, uint64_t id) { seen.emplace_back(t, id); };
    bus.run().on<FrameArrived>().connect([&](const FrameArrived& e) { record(e.time, e.packet); });
    bus.run().on<FrameDelivered>().connect([&](const FrameDelivered& e) { record(e.time, e.packet); });
    bus.run().on<CpuBusy>().connect([&](const CpuBusy& e) { record(e.time, static_cast<uint64_t>(e.end)); });
    double now = 0;
    for (int step = 0; step < 40; ++step) {
      for (int k = 0, m = static_cast<int>(rng() % 20); k < m; ++k) {
        // From now up to 3 ahead, on a coarse grid so that equal times happen.
        const double t = now + static_cast<double>(rng() % 13) * 0.25;
        const auto q = static_cast<uint32_t>(rng() % 3);
        const uint64_t id = n++;
        switch (rng() % 3) {
          case 0: bus.emit(FrameArrived{.time = t, .queue = q, .packet = id}); break;
          case 1: bus.emit(FrameDelivered{.time = t, .queue = q, .packet = id}); break;
          default: bus.emit(CpuBusy{.time = t, .queue = q, .end = static_cast<SimTime>(id)}); break;
        }
        emitted.emplace_back(t, id);
      }
      now += static_cast<double>(rng() % 5) * 0.25;
      bus.advance(now);
    }
    bus.advance(1e9);
    EXPECT_EQ(bus.pending(), 0u);
    std::sort(emitted.begin(), emitted.end());
    ASSERT_EQ(seen, emitted) << "trial " << trial;
  }
}

}  // namespace
}  // namespace vringsim

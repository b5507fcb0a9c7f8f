// Plug-ins defined here, in the test tree, run end to end: nothing outside
// this file knows them. A policy (docs/developer.md's "Adding a policy" example)
// and a metric (the "Adding a metric" example) register themselves, and a
// whole simulation uses both.
#include <gtest/gtest.h>

#include "sim/core/metric.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "tests/world/simulation_fixture.hpp"

namespace vringsim {
namespace {

// Mergeable receive with order-1 (8 KiB) buffers.
class TwoPage : public RxPolicy {
 public:
  bool mergeable() const override { return true; }
  uint32_t header_bytes() const override { return 12; }
  std::vector<uint32_t> nominal_posting() const override { return {2 * kPageBytes}; }
  std::optional<Posting> make_posting(GuestMemory& mem, GuestWork& work) override {
    ++work.page_allocs;
    auto a = mem.alloc_pages(1);  // one order-1 block
    if (!a) return std::nullopt;  // allocation failed: refill stops
    Posting p = fresh_posting();  // reuses a spent posting's storage
    p.segs.push_back({*a, 2 * kPageBytes});
    p.blocks.push_back({*a, 1, false});
    p.bytes = 2 * kPageBytes;
    return p;
  }
  void receive(std::span<const ReturnedBuffer> bufs, uint32_t frame_len, GuestMemory& mem,
               GuestWork& work) override {
    work.bytes_copied += std::min<uint32_t>(frame_len, 128);
    for (const auto& b : bufs) {
      mem.free_pages(b.posting->blocks[0].addr, 1);
      ++work.page_frees;
    }
  }
  void release(Posting&& p, GuestMemory& mem, GuestWork& work) override {
    mem.free_pages(p.blocks[0].addr, 1);
    ++work.page_frees;
  }
};
const Registrar<PolicyInfo> kTwoPage{PolicyInfo{"test-two-page", "mergeable receive with order-1 (8 KiB) buffers",
                                                RxMode::Mergeable, false, nullptr,
                                                [](const PolicyContext&) {
                                                  return std::unique_ptr<RxPolicy>(std::make_unique<TwoPage>());
                                                }}};

// Delivered frames longer than 1000 bytes, over the measured window.
class LargeFrames : public Metric {
 public:
  explicit LargeFrames(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<FrameDelivered>().connect([this](const FrameDelivered& e) {
      if (e.time >= warmup_ && e.len > 1000) ++large_;
    });
  }
  void write(Json& summary, double) const override { summary["test"]["large_frames"] = large_; }

 private:
  double warmup_;
  uint64_t large_ = 0;
};
const Registrar<MetricInfo> kLargeFrames{MetricInfo{
    "test-large-frames", "delivered frames over 1000 bytes (tests only)", false,
    [](const MetricContext& ctx) { return std::make_unique<LargeFrames>(ctx); }}};

using Plugins = test_support::Simulation;

TEST_F(Plugins, APolicyAndAMetricDefinedInTheTestTreeRunEndToEnd) {
  const RunResult r = run(scenario(Json{{"name", "two-page"},
                                        {"stop", {{"time_s", 0.05}}},
                                        {"measure", {{"warmup_s", 0.005}}},
                                        {"policy", {{"name", "test-two-page"}}},
                                        {"traffic",
                                         {{"arrival", "constant"},
                                          {"rate_gbps", 0.2},
                                          {"synthetic", {{"length", "imix"}}}}}}));
  // Ring figures from the policy's nominal posting: one 8 KiB descriptor per slot.
  EXPECT_EQ(u(r, "/ring/descriptors_per_slot_mtu"), 1u);
  EXPECT_EQ(u(r, "/ring/capacity_packets_mtu"), 256u);
  EXPECT_EQ(u(r, "/ring/descriptors_per_slot_64k"), 9u);  // ceil((65549 + 12) / 8192)
  EXPECT_EQ(u(r, "/memory/posted_bytes_full"), 256u * 8192u);
  EXPECT_EQ(u(r, "/memory/posted_bytes_peak"), 256u * 8192u);
  // It ran, below what the guest absorbs (nothing dropped), and only IMIX's
  // 1514-byte frames are counted by the test metric: one in twelve by
  // weight (7 x 60, 4 x 590, 1 x 1514), within 4 sigma of ~2,900 draws.
  EXPECT_EQ(u(r, "/packets/dropped"), 0u);
  const uint64_t delivered_measured = static_cast<uint64_t>(d(r, "/throughput/delivered_pps") * 0.045 + 0.5);
  EXPECT_GT(delivered_measured, 1000u);
  const uint64_t large = u(r, "/test/large_frames");
  EXPECT_GT(large, 0u);
  EXPECT_NEAR(static_cast<double>(large) / static_cast<double>(delivered_measured), 1.0 / 12.0, 0.02);
  EXPECT_EQ(u(r, "/buffers_per_packet/1"), delivered_measured);  // every IMIX frame fits one 8 KiB buffer
}

}  // namespace
}  // namespace vringsim

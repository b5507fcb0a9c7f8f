// Every policy's ring figures and chain shapes: the exact 2008 numbers of
// docs/model.md §2, and memory that always comes back.
#include <gtest/gtest.h>

#include <numeric>

#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {
namespace {

Config config_with(const std::vector<std::string>& sets) {
  Json doc = {{"name", "t"}};
  for (const auto& s : sets) apply_override(doc, s);
  check_document(doc, "test");
  return Config(resolve_defaults(doc));
}

std::unique_ptr<RxPolicy> make(const std::string& name, const std::vector<std::string>& sets = {}) {
  const Config cfg = config_with(sets);
  return Registry<PolicyInfo>::instance().find(name)->create(cfg, "policy." + name + ".", 1);
}

RingFigures figures(const std::string& name, uint32_t ring, const std::vector<std::string>& sets = {}) {
  auto p = make(name, sets);
  return ring_figures(ring, p->mergeable(), p->header_bytes(), p->nominal_posting());
}

TEST(Policies, EveryRegisteredPolicyIsDescribedAndBuildsAPostingThatFitsAFullRing) {
  // Walks the registry: a policy added tomorrow is checked the same way.
  const auto all = Registry<PolicyInfo>::instance().all();
  EXPECT_GE(all.size(), 6u);  // the 2008 set at least
  for (const PolicyInfo* info : all) {
    EXPECT_FALSE(info->description.empty()) << info->name;
    auto p = make(info->name);
    const auto posting = p->nominal_posting();
    ASSERT_FALSE(posting.empty()) << info->name;
    EXPECT_LE(posting.size(), kMaxQueueSize) << info->name;
    for (uint32_t len : posting) EXPECT_GT(len, 0u) << info->name;
    EXPECT_GT(p->header_bytes(), 0u) << info->name;
  }
}

TEST(Policies, EveryPolicyParameterHasAUnitOrChoicesADefaultAndASource) {
  for (const ParamSpec* spec : param_table().all()) {
    if (!spec->key.starts_with("policy.") || spec->key == "policy.name") continue;
    EXPECT_FALSE(spec->source.empty()) << spec->key;
    EXPECT_FALSE(spec->default_value.is_null()) << spec->key;
    EXPECT_TRUE(!spec->unit.empty() || spec->type == ParamType::Boolean || spec->type == ParamType::String)
        << spec->key;
  }
}

TEST(MaxBuffer, Ring256Holds12PacketsAndPins903024Bytes) {
  const auto f = figures("max-buffer", 256);
  EXPECT_EQ(f.ring_bytes, 10246u);
  EXPECT_EQ(f.descriptors_per_slot_mtu, 20u);
  EXPECT_EQ(f.descriptors_per_slot_64k, 20u);
  EXPECT_EQ(f.capacity_packets_mtu, 12u);
  EXPECT_EQ(f.capacity_packets_64k, 12u);
  EXPECT_EQ(f.unusable_descriptors, 16u);
  EXPECT_EQ(f.bytes_per_slot_mtu, 10u + 1514 + 18 * 4096);
  EXPECT_EQ(f.posted_bytes_full, 903024u);
}

TEST(Mergeable, Ring256Holds256MtuPacketsIn1MiBAnd64KiBTakes17Buffers) {
  const auto f = figures("mergeable", 256);
  EXPECT_EQ(f.descriptors_per_slot_mtu, 1u);
  EXPECT_EQ(f.capacity_packets_mtu, 256u);
  EXPECT_EQ(f.descriptors_per_slot_64k, 17u);
  EXPECT_EQ(f.capacity_packets_64k, 15u);
  EXPECT_EQ(f.unusable_descriptors, 0u);
  EXPECT_EQ(f.posted_bytes_full, 1048576u);
  EXPECT_EQ(f.bytes_per_slot_mtu, 4096u);
}

TEST(HdrInData, Ring256Has17DescriptorSlotsAnd15Of_Them) {
  const auto f = figures("hdr-in-data", 256);
  EXPECT_EQ(f.descriptors_per_slot_mtu, 17u);
  EXPECT_EQ(f.capacity_packets_mtu, 15u);
  EXPECT_EQ(f.capacity_packets_64k, 15u);
}

TEST(LargerRing, Ring4096Holds204SlotsPinning15351408Bytes) {
  const auto f = figures("larger-ring", 4096);
  EXPECT_EQ(f.ring_bytes, 110598u);
  EXPECT_EQ(f.capacity_packets_mtu, 204u);
  EXPECT_EQ(f.posted_bytes_full, 15351408u);
  // 256 slots would need an 8192-entry ring and pin 19,264,512 bytes.
  const auto g = figures("larger-ring", 8192);
  EXPECT_GE(g.capacity_packets_mtu, 256u);
  EXPECT_EQ(256u * g.bytes_per_posting, 19264512u);
}

TEST(Coalesced, Order2Takes6DescriptorsAnd42SlotsIn256) {
  const auto f = figures("coalesced", 256);
  EXPECT_EQ(f.descriptors_per_slot_mtu, 6u);
  EXPECT_EQ(f.capacity_packets_mtu, 42u);
  EXPECT_EQ(figures("coalesced", 256, {"policy.coalesced.order=4"}).descriptors_per_slot_mtu, 3u);
  EXPECT_EQ(figures("coalesced", 256, {"policy.coalesced.order=0"}).descriptors_per_slot_mtu, 18u);
}

TEST(Small, TwoDescriptorsPerSlotAndNoRoomForA64KiBFrame) {
  const auto f = figures("small", 256);
  EXPECT_EQ(f.descriptors_per_slot_mtu, 2u);
  EXPECT_EQ(f.capacity_packets_mtu, 128u);
  EXPECT_EQ(f.capacity_packets_64k, 0u);
  EXPECT_EQ(f.max_frame_bytes, 1514u);
}

TEST(RingFigures, AreExactForEveryPolicyAtEveryRingSize) {
  for (const PolicyInfo* info : Registry<PolicyInfo>::instance().all()) {
    auto p = make(info->name);
    const auto posting = p->nominal_posting();
    const uint64_t bytes = std::accumulate(posting.begin(), posting.end(), uint64_t{0});
    for (uint32_t n = 1; n <= kMaxQueueSize; n *= 2) {
      if (posting.size() > n) continue;
      const auto f = ring_figures(n, p->mergeable(), p->header_bytes(), posting);
      EXPECT_EQ(f.ring_bytes, vring_size(n));
      EXPECT_EQ(f.posted_bytes_full, (n / posting.size()) * bytes) << info->name << " " << n;
      EXPECT_EQ(f.unusable_descriptors + f.capacity_packets_mtu * f.descriptors_per_slot_mtu, n);
    }
  }
}

TEST(MaxBuffer, MtuFrameRecycles18PagesAndMemoryComesBack) {
  auto p = make("max-buffer");
  GuestMemory mem(1, 0.0);
  GuestWork w;
  auto posting = p->make_posting(mem, w);
  ASSERT_TRUE(posting);
  ASSERT_EQ(posting->segs.size(), 20u);
  EXPECT_EQ(posting->segs[0].len, 10u);
  EXPECT_EQ(posting->segs[1].len, 1514u);
  EXPECT_EQ(w.page_allocs, 18u);
  EXPECT_EQ(mem.pages_in_use(), 18u);
  GuestWork rw;
  ReturnedBuffer rb{&*posting, 10 + 1514};
  p->receive({&rb, 1}, 1514, mem, rw);
  EXPECT_EQ(rw.page_recycles, 18u);  // all pages unused: back on the private list
  EXPECT_EQ(rw.page_frees, 0u);
  // The next posting takes them from the list, not the allocator.
  GuestWork w2;
  auto again = p->make_posting(mem, w2);
  EXPECT_EQ(w2.page_allocs, 0u);
  EXPECT_EQ(w2.page_recycles, 18u);
  EXPECT_EQ(mem.pages_in_use(), 18u);
}

TEST(MaxBuffer, A64KiBFrameSendsItsPagesUpTheStack) {
  auto p = make("max-buffer", {"policy.max-buffer.recycle_pages=false"});
  GuestMemory mem(1, 0.0);
  GuestWork w;
  auto posting = p->make_posting(mem, w);
  GuestWork rw;
  ReturnedBuffer rb{&*posting, 10 + kFrame64k};
  p->receive({&rb, 1}, kFrame64k, mem, rw);
  // 65549 - 1514 = 64035 bytes of pages: 16 pages reached, 2 untouched.
  EXPECT_EQ(rw.page_frees, 18u);
  EXPECT_EQ(mem.pages_in_use(), 0u);
}

TEST(Mergeable, CopiesAtMostCopyBreakAndFreesEveryPage) {
  auto p = make("mergeable");
  GuestMemory mem(1, 0.0);
  std::vector<Posting> ps;
  GuestWork w;
  for (int i = 0; i < 17; ++i) ps.push_back(*p->make_posting(mem, w));
  EXPECT_EQ(mem.pages_in_use(), 17u);
  std::vector<ReturnedBuffer> rbs;
  for (auto& q : ps) rbs.push_back({&q, 4096});
  GuestWork rw;
  p->receive(rbs, kFrame64k, mem, rw);
  EXPECT_EQ(rw.bytes_copied, 128u);
  EXPECT_EQ(rw.page_frees, 17u);
  EXPECT_EQ(mem.pages_in_use(), 0u);
  // A frame that fits in the skb head gives its page back to the list.
  auto small = *p->make_posting(mem, w);
  ReturnedBuffer one{&small, 12 + 60};
  GuestWork sw;
  p->receive({&one, 1}, 60, mem, sw);
  EXPECT_EQ(sw.bytes_copied, 60u);
  EXPECT_EQ(sw.page_recycles, 1u);
}

TEST(Coalesced, FailedHigherOrderChunksFallBackToPagesInALongerChain) {
  auto p = make("coalesced", {"policy.coalesced.order_failure_prob=1"});
  GuestMemory mem(1, 0.0);
  GuestWork w;
  auto posting = p->make_posting(mem, w);
  ASSERT_TRUE(posting);
  EXPECT_EQ(posting->segs.size(), 2u + 16u);
  EXPECT_EQ(posting->bytes, 10u + 1514 + 65536);
}

TEST(Policies, AnAllocationFailureAbandonsThePostingAndReturnsItsMemory) {
  auto p = make("max-buffer", {"policy.max-buffer.recycle_pages=false"});
  GuestMemory mem(7, 0.2);
  int failed = 0;
  for (int i = 0; i < 50; ++i) {
    GuestWork w;
    auto posting = p->make_posting(mem, w);
    if (!posting) {
      ++failed;
      continue;
    }
    p->release(std::move(*posting), mem, w);
  }
  EXPECT_GT(failed, 0);
  EXPECT_EQ(mem.pages_in_use(), 0u);
}

}  // namespace
}  // namespace vringsim

namespace vringsim {
namespace {

// For every policy, without recycling: post a full ring's worth of chains,
// return MTU and 64 KiB frames, and every page comes back.
TEST(Policies, EveryPolicysChainsMatchItsNominalShapeAndGiveBackAllMemory) {
  for (const PolicyInfo* info : Registry<PolicyInfo>::instance().all()) {
    std::vector<std::string> sets;
    const std::string key = "policy." + info->name + ".recycle_pages";
    if (param_table().find(key)) sets.push_back(key + "=false");
    auto p = make(info->name, sets);
    GuestMemory mem(3, 0.0);
    const auto shape = p->nominal_posting();
    for (uint32_t frame : {kFrameMtu, kFrame64k}) {
      const uint64_t need = uint64_t{frame} + p->header_bytes();
      const uint64_t per = std::accumulate(shape.begin(), shape.end(), uint64_t{0});
      if (!p->mergeable() && need > per) continue;  // never fits: dropped by the device
      const uint64_t chains = p->mergeable() ? (need + per - 1) / per : 1;
      std::vector<Posting> ps;
      GuestWork w;
      for (uint64_t i = 0; i < chains; ++i) {
        ps.push_back(*p->make_posting(mem, w));
        ASSERT_EQ(ps.back().segs.size(), shape.size()) << info->name;
        for (size_t k = 0; k < shape.size(); ++k) EXPECT_EQ(ps.back().segs[k].len, shape[k]) << info->name;
      }
      std::vector<ReturnedBuffer> rbs;
      uint64_t left = need;
      for (auto& q : ps) {
        const uint64_t wr = std::min<uint64_t>(left, q.bytes);
        rbs.push_back({&q, static_cast<uint32_t>(wr)});
        left -= wr;
      }
      ASSERT_EQ(left, 0u) << info->name;
      GuestWork rw;
      p->receive(rbs, frame, mem, rw);
      EXPECT_EQ(mem.pages_in_use(), 0u) << info->name << " frame " << frame;
    }
  }
}

}  // namespace
}  // namespace vringsim

// Every policy's ring figures and chain shapes: the exact 2008 numbers of
// docs/model.md §2, and memory that always comes back.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <random>

#include "models/policies/mergeable.hpp"
#include "models/policies/page_list.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/split_ring.hpp"

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
  const PolicyInfo* info = Registry<PolicyInfo>::instance().find(name);
  return make_policy(name, PolicyContext{cfg, "", 1, legacy_setup(info->mode), 256});
}

RingFigures figures(const std::string& name, uint32_t ring, const std::vector<std::string>& sets = {}) {
  auto p = make(name, sets);
  return ring_figures(ring, RingLayout{}, p->mergeable(), p->header_bytes(), p->nominal_posting());
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

TEST(Policies, APolicyThatNeverPostedReportsNoNulls) {
  // The run sums every queue's report key by key: a queue that never posted
  // a buffer (allocations failing all run long) reported "mergeable": null,
  // and the sum over queues stopped the run ("type must be number, but is
  // object", exit 1).
  const std::function<void(const Json&, const std::string&)> no_null = [&](const Json& j, const std::string& at) {
    ASSERT_FALSE(j.is_null()) << at;
    if (j.is_object())
      for (auto it = j.begin(); it != j.end(); ++it) no_null(it.value(), at + "/" + it.key());
  };
  for (const PolicyInfo* info : Registry<PolicyInfo>::instance().all())
    for (const char* sizing : {"page", "mtu", "ewma"}) {
      auto p = make(info->name, {std::string("policy.mergeable.sizing=") + sizing});
      Json r = Json::object();
      p->report(r);
      no_null(r, info->name + " " + sizing);
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
  EXPECT_EQ(f.ring_bytes, 10244u);  // the 2008 layout: no event index
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
  EXPECT_EQ(f.ring_bytes, 110596u);
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
      const auto f = ring_figures(n, RingLayout{}, p->mergeable(), p->header_bytes(), posting);
      EXPECT_EQ(f.ring_bytes, vring_size(n, false));
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
  // The next posting takes them from the list, not the allocator: the list
  // is a stack given the pages in chain order, so they come back last first.
  GuestWork w2;
  auto again = p->make_posting(mem, w2);
  EXPECT_EQ(w2.page_allocs, 0u);
  EXPECT_EQ(w2.page_recycles, 18u);
  EXPECT_EQ(mem.pages_in_use(), 18u);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->segs.size(), 20u);
  for (size_t i = 0; i < 18; ++i) EXPECT_EQ(again->segs[2 + i].addr, posting->segs[19 - i].addr) << "page " << i;
  EXPECT_EQ(again->bytes, 10u + 1514u + 18u * 4096u);
}

TEST(PageList, ARunIsTakenAsTakeWouldGiveItOrNotAtAll) {
  GuestMemory mem(1, 0.0);
  GuestWork w;
  PageList list(true);
  uint64_t out[4] = {7, 7, 7, 7};
  // An empty list: a run of none is taken (the small policy's chain has no
  // pages), a run of one is refused (under UBSan the first form once
  // computed a pointer before an empty vector's null data()).
  EXPECT_TRUE(list.take_run(out, 0, w));
  EXPECT_FALSE(list.take_run(out, 1, w));
  EXPECT_EQ(out[0], 7u);
  const MemoryBlock blocks[3] = {{100, 0, false}, {200, 0, false}, {300, 0, false}};
  list.give_blocks(blocks, 3, mem, w);
  EXPECT_FALSE(list.take_run(out, 4, w));  // more than it holds: nothing taken
  EXPECT_EQ(list.size(), 3u);
  ASSERT_TRUE(list.take_run(out, 2, w));   // the last given first, as take() would
  EXPECT_EQ(out[0], 300u);
  EXPECT_EQ(out[1], 200u);
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(*list.take(mem, w), 100u);
}

TEST(MaxBuffer, AnAllocationFailingMidChainGivesBackEveryPageItTook) {
  auto p = make("max-buffer");
  GuestMemory mem(1, 0.0), failing(1, 1.0);
  GuestWork w;
  auto posting = p->make_posting(mem, w);
  ASSERT_TRUE(posting);
  // Three pages written: up the stack and freed; 15 back on the list.
  ReturnedBuffer rb{&*posting, 10 + 1514 + 3 * 4096};
  p->receive({&rb, 1}, 1514 + 3 * 4096, mem, w);
  ASSERT_EQ(mem.pages_in_use(), 15u);
  // The list's 15 pages, then the allocator fails at the 16th: nothing is
  // posted and the 15 go back, none twice, none lost.
  GuestWork wf;
  EXPECT_FALSE(p->make_posting(failing, wf));
  EXPECT_EQ(wf.page_allocs, 1u);
  GuestWork w2;
  auto again = p->make_posting(mem, w2);
  ASSERT_TRUE(again);
  EXPECT_EQ(w2.page_recycles, 15u);
  EXPECT_EQ(w2.page_allocs, 3u);
  EXPECT_EQ(mem.pages_in_use(), 18u);
  ASSERT_EQ(again->segs.size(), 20u);
  for (size_t i = 2; i < 20; ++i)
    for (size_t j = 2; j < i; ++j) ASSERT_NE(again->segs[i].addr, again->segs[j].addr) << i << " " << j;
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
        EXPECT_EQ(ps.back().bytes, per) << info->name;  // what the device may write: every buffer's length
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

// For every policy: a spent posting handed back with recycle() lends its
// storage to the next one (no allocation per packet; a one-buffer posting
// has its buffer and block in itself and never allocates), and the next
// posting is as good as a new one (the nominal shape, nothing left of the old).
TEST(Policies, EveryPolicyBuildsOnRecycledPostings) {
  for (const PolicyInfo* info : Registry<PolicyInfo>::instance().all()) {
    auto p = make(info->name, {});
    GuestMemory mem(3, 0.0);
    GuestWork w;
    Posting first = *p->make_posting(mem, w);
    const BufferSeg* storage = first.segs.data();
    const MemoryBlock* blocks = first.blocks.data();
    const bool segs_on_heap = first.segs.on_heap(), blocks_on_heap = first.blocks.on_heap();
    const uint64_t bytes = first.bytes;
    ReturnedBuffer rb{&first, static_cast<uint32_t>(first.bytes)};
    p->receive({&rb, 1}, static_cast<uint32_t>(first.bytes) - p->header_bytes(), mem, w);
    p->recycle(std::move(first));
    const Posting next = *p->make_posting(mem, w);
    if (segs_on_heap) {
      EXPECT_EQ(next.segs.data(), storage) << info->name;
    }
    if (blocks_on_heap) {
      EXPECT_EQ(next.blocks.data(), blocks) << info->name;
    }
    EXPECT_EQ(next.bytes, bytes) << info->name;
    const auto shape = p->nominal_posting();
    ASSERT_EQ(next.segs.size(), shape.size()) << info->name;
    for (size_t k = 0; k < shape.size(); ++k) EXPECT_EQ(next.segs[k].len, shape[k]) << info->name;
  }
}

// ---- mergeable buffer sizing: page (2008), mtu (3.13), ewma (3.14+) ------

/// Builds `n` postings of `p`; returns them.
std::vector<Posting> post(RxPolicy& p, GuestMemory& mem, uint32_t n) {
  std::vector<Posting> ps;
  GuestWork w;
  for (uint32_t i = 0; i < n; ++i) ps.push_back(*p.make_posting(mem, w));
  return ps;
}
/// The device writes one frame of `len` into the front postings; the driver receives it.
void receive_one(RxPolicy& p, GuestMemory& mem, std::vector<Posting>& ps, size_t& next, uint32_t len) {
  std::vector<ReturnedBuffer> rbs;
  uint64_t left = uint64_t{len} + p.header_bytes();
  while (left > 0) {
    Posting& q = ps.at(next++);
    const uint64_t w = std::min<uint64_t>(left, q.bytes);
    rbs.push_back({&q, static_cast<uint32_t>(w)});
    left -= w;
  }
  GuestWork rw;
  p.receive(rbs, len, mem, rw);
}

TEST(MergeableEwma, MtuFramesGet1536ByteBuffersAndEachFragsTailGoesToItsLastBuffer) {
  auto p = make("mergeable", {"policy.mergeable.sizing=ewma"});
  GuestMemory mem(1, 0.0);
  const auto ps = post(*p, mem, 256);
  // avg 0 -> clamped to min_buf_len 1518: ALIGN(12 + 1518, 64) = 1536. A 32 KiB
  // frag holds 21 (32256 bytes); the 512-byte tail goes to the 21st.
  uint64_t total = 0;
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_EQ(ps[i].bytes, (i % 21 == 20) ? 2048u : 1536u) << i;
    total += ps[i].bytes;
  }
  EXPECT_EQ(total, 256u * 1536 + 12 * 512);  // 393,216 + 6,144 = 399,360
  EXPECT_EQ(mem.pages_in_use(), 13u * 8);    // 13 frags of 8 pages
  Json r;
  p->report(r);
  EXPECT_EQ(r["mergeable"]["frag_tail_bytes_added"], 12 * 512);
  EXPECT_EQ(r["mergeable"]["buffers_posted_by_bytes"]["1536"], 244);
  EXPECT_EQ(r["mergeable"]["buffers_posted_by_bytes"]["2048"], 12);
  EXPECT_EQ(r["mergeable"]["frags_allocated"], 13);
}

TEST(MergeableEwma, TheAverageIsLinuxsIntegerEwmaOfWeightOneSixtyFourth) {
  auto p = make("mergeable", {"policy.mergeable.sizing=ewma"});
  auto& m = dynamic_cast<MergeablePolicy&>(*p);
  GuestMemory mem(1, 0.0);
  auto ps = post(*p, mem, 64);
  size_t next = 0;
  // By hand: 1000 (first sample); (1000*63 + 5000) >> 6 = 68000 >> 6 = 1062;
  // (1062*63 + 65549) >> 6 = 132455 >> 6 = 2069; (2069*63 + 60) >> 6 = 130407 >> 6 = 2037.
  const std::pair<uint32_t, uint64_t> steps[] = {{1000, 1000}, {5000, 1062}, {65549, 2069}, {60, 2037}};
  for (const auto& [len, avg] : steps) {
    receive_one(*p, mem, ps, next, len);
    EXPECT_EQ(m.average(), avg) << len;
  }
  EXPECT_EQ(m.next_buf_len(), 2112u);  // ALIGN(12 + 2037, 64)
}

TEST(MergeableEwma, GsoFramesConvergeToPageBuffersAndTake17PerPacket) {
  auto p = make("mergeable", {"policy.mergeable.sizing=ewma"});
  auto& m = dynamic_cast<MergeablePolicy&>(*p);
  GuestMemory mem(1, 0.0);
  auto ps = post(*p, mem, 64);
  size_t next = 0;
  receive_one(*p, mem, ps, next, kFrame64k);
  EXPECT_EQ(m.average(), kFrame64k);
  EXPECT_EQ(m.next_buf_len(), 4096u);  // clamp to PAGE_SIZE - 12, + 12
  // The frag being carved was started with 1536-byte buffers: 4096-byte ones
  // fill it until its tail goes to one of them; from the next frag on, 8 of
  // exactly 4096 bytes fill each.
  auto big = post(*p, mem, 40);
  size_t first = 0;
  while (big[first].bytes == 4096u) ++first;
  EXPECT_GT(big[first].bytes, 4096u);
  EXPECT_LT(big[first].bytes, 8192u);
  for (size_t i = first + 1; i < big.size(); ++i) EXPECT_EQ(big[i].bytes, 4096u) << i;
  size_t k = first + 1;
  receive_one(*p, mem, big, k, kFrame64k);
  EXPECT_EQ(k - (first + 1), 17u);  // ceil((65549 + 12) / 4096)
}

TEST(MergeableEwma, MinBufLenSpreadsTheLargestPacketOverTheRing) {
  auto at = [](uint32_t ring, bool big, uint32_t max_mtu) {
    MergeableConfig c;
    c.sizing = MergeableSizing::Ewma;
    c.ring_size = ring;
    c.big_packets = big;
    c.max_mtu = max_mtu;
    return MergeablePolicy(c).min_buf_len();
  };
  EXPECT_EQ(at(256, true, 1500), 1518u);   // ceil(65565 / 256) - 12 = 245 < GOOD_PACKET_LEN
  EXPECT_EQ(at(32, true, 1500), 2037u);    // ceil(65565 / 32) - 12 = 2049 - 12
  EXPECT_EQ(at(16, false, 9000), 1518u);   // ceil((12 + 18 + 9000) / 16) - 12 = 553
  EXPECT_EQ(at(4, false, 9000), 2246u);    // ceil(9030 / 4) - 12 = 2258 - 12
}

TEST(MergeableEwma, AMinBufLenAboveThePageClampsAsTheKernelsClampDoes) {
  // Rings under 17 entries with guest GSO: min_buf_len (ceil(65565 / 16) -
  // 12 = 4086) exceeds PAGE_SIZE - hdr (4084). The kernel's clamp() (since
  // 2122e2a4efc2, Linux 6.1) is val >= hi ? hi : (val <= lo ? lo : val):
  // an average at or above 4084 gives 4084, one below gives min_buf_len.
  MergeableConfig c;
  c.sizing = MergeableSizing::Ewma;
  c.ring_size = 16;
  c.big_packets = true;
  MergeablePolicy p(c);
  EXPECT_EQ(p.min_buf_len(), 4086u);
  EXPECT_EQ(p.next_buf_len(), 4160u);  // avg 0: ALIGN(12 + 4086, 64)
  GuestMemory mem(1, 0.0);
  auto ps = post(p, mem, 16);
  size_t next = 0;
  receive_one(p, mem, ps, next, 4085);  // the first sample sets the average
  EXPECT_EQ(p.average(), 4085u);
  EXPECT_EQ(p.next_buf_len(), 4096u);  // 4085 >= hi: ALIGN(12 + 4084, 64)
  c.ring_size = 8;                     // ceil(65565 / 8) - 12 = 8184
  EXPECT_EQ(MergeablePolicy(c).next_buf_len(), 8256u);  // ALIGN(12 + 8184, 64)
}

TEST(MergeablePremapped, TheDmaRecordAtEachFragsHeadLeaves7BuffersPerFragAnd15PerPacket) {
  // Premapped rx (virtnet_rq_alloc): a struct virtnet_rq_dma (16 bytes) at
  // the head of every new frag. 4096-byte buffers then start at 16: six
  // fit, the seventh takes the 4080-byte tail (8176 bytes); a 64 KiB packet
  // (65549 + 12) takes 6 x 4096 + 8176 = 32752 twice and one more: 15.
  auto p = make("mergeable", {"policy.mergeable.sizing=ewma", "guest.rx_premapped=true"});
  GuestMemory mem(1, 0.0);
  auto ps = post(*p, mem, 64);
  EXPECT_EQ(ps[0].segs[0].addr % 32768, 16u);  // after the record
  size_t next = 0;
  receive_one(*p, mem, ps, next, kFrame64k);
  auto big = post(*p, mem, 40);
  size_t first = 0;  // the frag started with 1536-byte buffers ends first
  while (big[first].bytes == 4096u) ++first;
  ++first;
  for (size_t i = first; i + 7 <= big.size(); i += 7) {
    for (size_t j = 0; j < 6; ++j) EXPECT_EQ(big[i + j].bytes, 4096u) << i + j;
    EXPECT_EQ(big[i + 6].bytes, 8176u) << i + 6;
    EXPECT_EQ(big[i].segs[0].addr % 32768, 16u) << i;
  }
  size_t k = first;
  receive_one(*p, mem, big, k, kFrame64k);
  EXPECT_EQ(k - first, 15u);
  // Without premapping: 8 of 4096 per frag, 17 per packet (the test above).
  // A one-page frag (order-3 failure): the first 4096-byte buffer is cut
  // by the record's 16 bytes (6aacd1484468, "fix overflow inside
  // virtnet_rq_alloc").
  auto one = make("mergeable", {"policy.mergeable.sizing=ewma", "guest.rx_premapped=true",
                                "guest.frag_order_failure_prob=1"});
  GuestMemory m1(1, 0.0);
  auto small = post(*one, m1, 4);
  EXPECT_EQ(small[0].bytes, 1536u);         // at 16
  EXPECT_EQ(small[1].bytes, 1536u + 1008);  // at 1552; the 1008-byte tail joins it
}

TEST(MergeablePremapped, TheRingFiguresCountTheBuffersAPacketTakesInTheStream) {
  // A long stream of 64 KiB packets: 4096-byte buffers, 7 to a premapped
  // frag, 15 per packet, so a 256-entry ring holds 17 such packets (the
  // nominal posting alone says 17 buffers and 15 packets).
  auto p = make("mergeable", {"policy.mergeable.sizing=ewma", "guest.rx_premapped=true"});
  const RingFigures f = ring_figures(256, RingLayout{}, *p);
  EXPECT_EQ(f.descriptors_per_slot_64k, 15u);
  EXPECT_EQ(f.capacity_packets_64k, 17u);  // floor(256 / 15)
  EXPECT_EQ(f.descriptors_per_slot_mtu, 1u);
  auto q = make("mergeable", {"policy.mergeable.sizing=ewma"});
  const RingFigures g = ring_figures(256, RingLayout{}, *q);
  EXPECT_EQ(g.descriptors_per_slot_64k, 17u);  // 8 of exactly 4096 a frag: as nominal
  EXPECT_EQ(g.capacity_packets_64k, 15u);
}

TEST(MergeablePremapped, TheCurrentFragIsNeverReusedFromItsStart) {
  // The dma record holds a page reference while its frag is current, so
  // skb_page_frag_refill() never sees page_ref_count() == 1: carving goes on.
  auto p = make("mergeable", {"policy.mergeable.sizing=ewma", "guest.rx_premapped=true"});
  GuestMemory mem(1, 0.0);
  auto ps = post(*p, mem, 50);  // 21 + 21 + 8
  size_t next = 0;
  for (int i = 0; i < 50; ++i) receive_one(*p, mem, ps, next, 100);
  EXPECT_EQ(mem.pages_in_use(), 8u);
  auto more = post(*p, mem, 1);
  EXPECT_EQ(more[0].segs[0].addr % 32768, 16u + 8 * 1536);
  GuestWork w;
  p->release(std::move(more[0]), mem, w);
}

TEST(MergeableEwma, XdpBuffersArePageSizeLessTheRoomWithNoTailMerging) {
  auto p = make("mergeable", {"policy.mergeable.sizing=ewma", "guest.xdp=true"});
  GuestMemory mem(1, 0.0);
  const auto ps = post(*p, mem, 16);
  for (const auto& q : ps) EXPECT_EQ(q.bytes, 4096u - 576);
  EXPECT_EQ(mem.pages_in_use(), 2u * 8);  // 8 buffers of 4096 bytes (with their room) per frag
  EXPECT_EQ(ps[1].segs[0].addr - ps[0].segs[0].addr, 4096u);
}

TEST(MergeableMtu, FixedBuffersLeaveEachFragsTailUnused) {
  auto p = make("mergeable", {"policy.mergeable.sizing=mtu"});
  GuestMemory mem(1, 0.0);
  const auto ps = post(*p, mem, 43);
  for (const auto& q : ps) EXPECT_EQ(q.bytes, 1536u);
  Json r;
  p->report(r);
  EXPECT_EQ(r["mergeable"]["frags_allocated"], 3);
  EXPECT_EQ(r["mergeable"]["frag_tail_bytes_unused"], 2 * 512);
}

TEST(MergeableFrags, AFragIsFreedWhenItsLastBufferIsAndAFailedOrder3FallsBackToAPage) {
  for (const char* sizing : {"mtu", "ewma"}) {
    auto p = make("mergeable", {std::string("policy.mergeable.sizing=") + sizing});
    GuestMemory mem(1, 0.0);
    auto ps = post(*p, mem, 50);  // frags 1, 2 full; the third current
    size_t next = 0;
    for (int i = 0; i < 50; ++i) receive_one(*p, mem, ps, next, 100);
    EXPECT_EQ(mem.pages_in_use(), 8u) << sizing;  // only the current frag is left
    auto more = post(*p, mem, 1);                 // it is reused from offset 0
    EXPECT_EQ(mem.pages_in_use(), 8u) << sizing;
    GuestWork w;
    p->release(std::move(more[0]), mem, w);
  }
  auto f = make("mergeable", {"policy.mergeable.sizing=ewma", "guest.frag_order_failure_prob=1"});
  GuestMemory mem(1, 0.0);
  const auto ps = post(*f, mem, 4);
  // One-page frags: 1536, then 1536 + the 1024-byte tail; twice.
  EXPECT_EQ(ps[0].bytes, 1536u);
  EXPECT_EQ(ps[1].bytes, 2560u);
  EXPECT_EQ(ps[2].bytes, 1536u);
  EXPECT_EQ(ps[3].bytes, 2560u);
  EXPECT_EQ(mem.pages_in_use(), 2u);
  Json r;
  f->report(r);
  EXPECT_EQ(r["mergeable"]["frag_order0_fallbacks"], 2);
}

TEST(MergeableFrags, RandomPostsReceivesAndReleasesHoldExactlyTheFragsTheirBuffersAreIn) {
  // The frags live in slots named by their buffers' MemoryBlock::tag. After
  // every step, the memory in use is exactly the distinct frags the live
  // buffers are carved from, and the one being carved (the last buffer's:
  // skb_page_frag_refill moves to a new frag only when a buffer is made);
  // every buffer lies inside its frag and none overlaps another; the
  // report's buffers by length count every buffer made. Across frag ends
  // (tails merged, premapped records, one-page fallbacks) and slot reuse.
  const std::vector<std::vector<std::string>> configs = {
      {"policy.mergeable.sizing=mtu"},
      {"policy.mergeable.sizing=ewma"},
      {"policy.mergeable.sizing=ewma", "guest.rx_premapped=true"},
      {"policy.mergeable.sizing=ewma", "guest.xdp=true"},
      {"policy.mergeable.sizing=ewma", "guest.frag_order_failure_prob=0.3"},
      {"policy.mergeable.sizing=ewma", "guest.rx_premapped=true", "guest.frag_order_failure_prob=0.5"},
  };
  for (size_t ci = 0; ci < configs.size(); ++ci) {
    SCOPED_TRACE(ci);
    auto p = make("mergeable", configs[ci]);
    GuestMemory mem(1, 0.0);
    std::mt19937_64 rng(ci + 1);
    std::deque<Posting> ring;  // in posting order: the device takes from the front
    std::map<uint32_t, uint64_t> made;
    std::optional<MemoryBlock> current;
    auto check = [&](int step) {
      std::map<uint64_t, unsigned> held;  // frag base -> order
      std::vector<std::pair<uint64_t, uint64_t>> spans;
      for (const Posting& q : ring) {
        ASSERT_EQ(q.blocks.size(), 1u);
        const MemoryBlock& b = q.blocks.front();
        held[b.addr] = b.order;
        ASSERT_GE(q.segs[0].addr, b.addr) << step;
        ASSERT_LE(q.segs[0].addr + q.segs[0].len, b.addr + (uint64_t{kPageBytes} << b.order)) << step;
        spans.emplace_back(q.segs[0].addr, q.segs[0].addr + q.segs[0].len);
      }
      if (current) held[current->addr] = current->order;
      uint64_t pages = 0;
      for (const auto& [base, order] : held) pages += uint64_t{1} << order;
      ASSERT_EQ(mem.pages_in_use(), pages) << "step " << step;
      std::sort(spans.begin(), spans.end());
      for (size_t i = 1; i < spans.size(); ++i) ASSERT_LE(spans[i - 1].second, spans[i].first) << step;
    };
    GuestWork w;
    for (int step = 0; step < 4000; ++step) {
      const uint32_t r = static_cast<uint32_t>(rng() % 10);
      if (r < 5 && ring.size() < 256) {
        auto q = p->make_posting(mem, w);
        ASSERT_TRUE(q.has_value());
        ++made[q->bytes];
        current = q->blocks.front();
        if (rng() % 16 == 0) {
          p->release(std::move(*q), mem, w);  // the ring refused it
        } else {
          ring.push_back(std::move(*q));
        }
      } else if (!ring.empty()) {
        const uint32_t lens[] = {60, 1514, 9000, kFrame64k, 1 + static_cast<uint32_t>(rng() % kFrame64k)};
        const uint32_t len = lens[rng() % 5];
        uint64_t have = 0;
        size_t n = 0;
        while (n < ring.size() && have < uint64_t{len} + p->header_bytes()) have += ring[n++].bytes;
        if (have < uint64_t{len} + p->header_bytes()) continue;
        std::vector<ReturnedBuffer> rbs;
        for (size_t i = 0; i < n; ++i) rbs.push_back({&ring[i], ring[i].bytes});
        p->receive(rbs, len, mem, w);
        ring.erase(ring.begin(), ring.begin() + static_cast<std::ptrdiff_t>(n));
      }
      check(step);
      if (HasFatalFailure()) return;
    }
    Json report;
    p->report(report);
    Json expected = Json::object();
    for (const auto& [len, n] : made) expected[std::to_string(len)] = n;
    EXPECT_EQ(report["mergeable"]["buffers_posted_by_bytes"], expected);
    if (ci != 0 && ci != 3) {  // mtu and xdp buffers have one length
      EXPECT_GE(made.size(), 2u);
    }
    while (!ring.empty()) {
      p->release(std::move(ring.front()), mem, w);
      ring.pop_front();
    }
    check(-1);  // only the current frag is left
    EXPECT_LE(mem.pages_in_use(), 8u);
  }
}

TEST(MergeableFrags, LengthCountsCountAsAMapDoes) {
  std::mt19937_64 rng(7);
  for (const uint32_t kinds : {1u, 2u, 3u, 40u}) {
    LengthCounts counts;
    std::map<uint32_t, uint64_t> want;
    for (int i = 0; i < 5000; ++i) {
      const uint32_t len = 1536 + 64 * static_cast<uint32_t>(rng() % kinds) + (rng() % 7 == 0 ? 16 : 0);
      counts.add(len);
      ++want[len];
    }
    const std::map<uint32_t, uint64_t> got(counts.counts().begin(), counts.counts().end());
    EXPECT_EQ(got, want);
    EXPECT_TRUE(std::is_sorted(counts.counts().begin(), counts.counts().end()));
  }
}

}  // namespace
}  // namespace vringsim

#include "sim/core/ring_faults.hpp"
#include "sim/core/split_ring.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "sim/core/desc_graph.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/virtqueue.hpp"
#include "tests/sim/ring_fixtures.hpp"

namespace vringsim {
namespace {

using test_support::chain;

TEST(VringSize, EventIndexLayoutMatchesLinuxFormulaAtHandComputedSizes) {
  // ALIGN(16N + 2(3+N), 4096) + 2*3 + 8N, worked by hand.
  EXPECT_EQ(vring_size(1, true), 4096u + 6 + 8);
  EXPECT_EQ(vring_size(256, true), 10246u);              // docs/model.md §2
  EXPECT_EQ(vring_size(4096, true), 110598u);            // docs/model.md §2 (larger ring)
  EXPECT_EQ(vring_size(1024, true), 20480u + 6 + 8192);  // 16384+2054=18438 -> 20480
  EXPECT_EQ(vring_size(32768, true), 593920u + 6 + 262144);
}

TEST(VringSize, The2008LayoutHasNoEventFields) {
  // ALIGN(16N + 2(2+N), 4096) + 2*2 + 8N, by hand:
  // N=256: 4096 + 516 = 4612 -> 8192; + 4 + 2048 = 10244.
  EXPECT_EQ(vring_size(256, false), 10244u);
  // N=4096: 65536 + 8196 = 73732 -> 77824; + 4 + 32768 = 110596.
  EXPECT_EQ(vring_size(4096, false), 110596u);
  EXPECT_EQ(vring_size(1, false), 4096u + 4 + 8);
  // used_event never moves the used ring to another page (18N+4 and 18N+6
  // have no multiple of 4096 between them): the layouts differ by avail_event.
  for (uint64_t n = 1; n <= kMaxQueueSize; n *= 2) EXPECT_EQ(vring_size(n, true) - vring_size(n, false), 2u) << n;
}

TEST(VringSize, EveryPowerOfTwoAgreesWithAnIndependentComputation) {
  for (uint64_t n = 1; n <= kMaxQueueSize; n *= 2) {
    for (const bool event : {false, true}) {
      const uint64_t first = 16 * n + 2 * (2 + event + n);
      const uint64_t pages = (first + 4095) / 4096;
      EXPECT_EQ(vring_size(n, event), pages * 4096 + 2 * (2 + event) + 8 * n) << "N=" << n;
      SplitRing q(static_cast<uint32_t>(n), event);
      EXPECT_EQ(q.bytes(), vring_size(n, event));
    }
  }
}

TEST(SplitRing, RejectsSizesThatAreNotPowersOfTwo) {
  EXPECT_FALSE(is_valid_queue_size(0));
  EXPECT_FALSE(is_valid_queue_size(300));
  EXPECT_FALSE(is_valid_queue_size(65536));
  EXPECT_TRUE(is_valid_queue_size(32768));
  EXPECT_THROW(SplitRing(300), InvariantError);
}

TEST(SplitRing, AddedChainIsInvisibleUntilPublished) {
  SplitRing q(16);
  auto segs = chain(3);
  auto head = q.add_inbuf(segs);
  ASSERT_TRUE(head);
  EXPECT_EQ(q.num_free(), 13u);
  EXPECT_EQ(q.count(DescState::Posted), 3u);
  EXPECT_EQ(q.avail_pending(), 0u);
  EXPECT_EQ(q.publish_avail(), 1u);
  EXPECT_EQ(q.avail_pending(), 1u);
  EXPECT_EQ(q.next_chain_bytes(), 3u * 4096);
  q.check_invariants();
}

TEST(SplitRing, AddFailsWithoutChangingAnythingWhenTooFewDescriptorsAreFree) {
  SplitRing q(16);
  auto big = chain(12);
  ASSERT_TRUE(q.add_inbuf(big));
  EXPECT_FALSE(q.add_inbuf(chain(5)));
  EXPECT_EQ(q.num_free(), 4u);
  EXPECT_TRUE(q.add_inbuf(chain(4)));
  EXPECT_EQ(q.num_free(), 0u);
  q.check_invariants();
}

TEST(SplitRing, FullCycleMovesEveryDescriptorThroughEachStateAndBack) {
  SplitRing q(8);
  uint32_t added_descs = 0;
  auto h = *q.add_inbuf(chain(3), &added_descs);
  EXPECT_EQ(added_descs, 3u);
  q.publish_avail();
  std::vector<BufferSeg> got;
  uint32_t ring_descs = 0;
  ChainTotals totals;
  EXPECT_EQ(q.pop_avail(&got, &ring_descs, &totals), h);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(ring_descs, 3u);  // what ring_descriptors(h) counts, from the same walk
  EXPECT_EQ(totals.buffers, 3u);
  EXPECT_EQ(totals.bytes, 3u * 4096);
  EXPECT_EQ(q.ring_descriptors(h), 3u);
  EXPECT_EQ(q.count(DescState::Device), 3u);
  q.push_used(h, 5000);
  EXPECT_EQ(q.used_pending(), 0u);  // written, not flushed
  EXPECT_EQ(q.count(DescState::Device), 3u);
  q.check_invariants();
  q.flush_used(1);
  EXPECT_EQ(q.count(DescState::Used), 3u);
  EXPECT_EQ(q.used_pending(), 1u);
  auto e = q.get_buf();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, h);
  EXPECT_EQ(e->len, 5000u);
  EXPECT_EQ(q.num_free(), 8u);
  EXPECT_EQ(q.count(DescState::Free), 8u);
  q.check_invariants();
}

TEST(SplitRing, IndicesWrapPast65536WithoutLosingADescriptor) {
  SplitRing q(4);
  for (int i = 0; i < 70000; ++i) {
    auto h = q.add_inbuf(chain(1 + i % 4));
    ASSERT_TRUE(h) << i;
    q.publish_avail();
    const uint16_t got = q.pop_avail();
    ASSERT_EQ(got, *h);
    q.push_used(got, 1);
    q.flush_used(1);
    ASSERT_TRUE(q.get_buf());
  }
  EXPECT_EQ(q.num_free(), 4u);
  q.check_invariants();
}

TEST(SplitRing, AvailBytesSumsChainsInRingOrderUpToTheNeed) {
  SplitRing q(32);
  for (int i = 0; i < 5; ++i) q.add_inbuf(chain(1));
  q.publish_avail();
  EXPECT_EQ(q.avail_bytes_upto(1), 4096u);
  EXPECT_EQ(q.avail_bytes_upto(10000), 3u * 4096);
  EXPECT_EQ(q.avail_bytes_upto(1u << 30), 5u * 4096);
}

TEST(SplitRing, NotificationFlagsFollowDriverAndDevice) {
  SplitRing q(8);
  EXPECT_TRUE(q.kick_needed(0));
  q.set_notification(false);
  EXPECT_FALSE(q.kick_needed(0));
  EXPECT_TRUE(q.should_interrupt());
  q.disable_cb();
  EXPECT_FALSE(q.should_interrupt());
  // enable_cb reports pending used entries so the driver polls again.
  auto h = *q.add_inbuf(chain(1));
  q.publish_avail();
  q.pop_avail();
  q.push_used(h, 1);
  q.flush_used(1);
  EXPECT_FALSE(q.enable_cb());
  EXPECT_TRUE(q.should_interrupt());
}

TEST(VringNeedEvent, IsTrueWhenTheEventIndexIsAmongTheNewEntriesAcrossTheWrap) {
  EXPECT_TRUE(vring_need_event(0, 1, 0));
  EXPECT_FALSE(vring_need_event(1, 1, 0));   // event 1 not yet reached
  EXPECT_FALSE(vring_need_event(5, 5, 5));   // nothing new
  EXPECT_TRUE(vring_need_event(3, 10, 2));   // 3 in [2, 10)
  EXPECT_FALSE(vring_need_event(1, 10, 2));  // already passed before old
  // Across 65535 -> 0: the window [65534, 1) holds 65534, 65535 and 0.
  EXPECT_TRUE(vring_need_event(65534, 1, 65534));
  EXPECT_TRUE(vring_need_event(65535, 1, 65534));
  EXPECT_TRUE(vring_need_event(0, 1, 65534));
  EXPECT_FALSE(vring_need_event(1, 1, 65534));
  EXPECT_FALSE(vring_need_event(65533, 1, 65534));
}

/// Publishes `n` one-descriptor chains; returns whether the driver would kick.
bool publish(SplitRing& q, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) q.add_inbuf(chain(1));
  return q.kick_needed(q.publish_avail());
}
/// The device takes and returns every published chain.
void consume_all(SplitRing& q) {
  uint32_t n = 0;
  while (q.avail_pending()) {
    q.push_used(q.pop_avail(), 1);
    ++n;
  }
  q.flush_used(n);
}

TEST(EventIdx, TheDriverKicksOnlyWhenItPublishesPastTheDevicesAvailEvent) {
  SplitRing q(8, true);
  q.set_notification(true);  // the device waits: avail_event = avail idx (0)
  EXPECT_TRUE(publish(q, 1));   // entry 0 is the one the device asked for
  EXPECT_FALSE(publish(q, 1));  // avail_event stays 0: no kick for entry 1
  q.set_notification(false);    // with the event index this writes nothing
  consume_all(q);
  while (q.get_buf()) {}
  EXPECT_FALSE(publish(q, 2));
  q.set_notification(true);  // avail_event = 4
  consume_all(q);
  while (q.get_buf()) {}
  EXPECT_TRUE(publish(q, 3));
  // A stale avail_event comes back into the window after 2^16 publications:
  // the driver then kicks once (as vhost's guests do).
  q.set_notification(false);
  uint32_t kicks = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    consume_all(q);
    while (q.get_buf()) {}
    kicks += publish(q, 1);
  }
  EXPECT_EQ(kicks, 1u);
}

TEST(EventIdx, TheDeviceInterruptsWhenUsedIndexPassesTheDriversUsedEvent) {
  SplitRing q(8, true);
  publish(q, 8);
  EXPECT_TRUE(q.enable_cb());  // used_event = 0
  q.push_used(q.pop_avail(), 1);
  q.flush_used(1);
  EXPECT_TRUE(q.should_interrupt());   // used idx 0 -> 1 passes used_event 0
  q.push_used(q.pop_avail(), 1);
  q.flush_used(1);
  EXPECT_FALSE(q.should_interrupt());  // the driver has not moved used_event
  EXPECT_TRUE(q.get_buf() && q.get_buf());
  EXPECT_TRUE(q.enable_cb());  // used_event = 2
  q.push_used(q.pop_avail(), 1);
  q.flush_used(1);
  EXPECT_TRUE(q.should_interrupt());
  // While polling the driver writes used_event = 0 (Linux's
  // virtqueue_disable_cb_split): no interrupt until the used index crosses 0.
  q.disable_cb();
  q.push_used(q.pop_avail(), 1);
  q.flush_used(1);
  EXPECT_FALSE(q.should_interrupt());
}

TEST(EventIdx, BothPathsAgreeOnTheFirstKickAndInterruptOfAnIdleRing) {
  for (const bool event : {false, true}) {
    SplitRing q(8, event);
    EXPECT_TRUE(publish(q, 4)) << event;  // a fresh ring: both take the first kick
    q.set_notification(false);            // a busy device wants no kick
    consume_all(q);
    while (q.get_buf()) {}
    EXPECT_FALSE(publish(q, 4)) << event;
    q.set_notification(true);  // it ran dry and waits
    consume_all(q);
    while (q.get_buf()) {}
    EXPECT_TRUE(publish(q, 4)) << event;
    EXPECT_TRUE(q.enable_cb()) << event;  // the driver sleeps
    consume_all(q);
    EXPECT_TRUE(q.should_interrupt()) << event;
  }
}

// host.notify_on_empty, the 2008 QEMU's virtio_notify(): "Always notify
// when queue is empty", if ((vq->inuse || vring_avail_idx(vq) !=
// vq->last_avail_idx) && (vring_avail_flags(vq) & VRING_AVAIL_F_NO_INTERRUPT))
// return. With interrupts suppressed, the publication after which the device
// has no buffer left (every published chain taken, every chain taken
// returned) interrupts anyway; the publications before it do not.
TEST(NotifyOnEmpty, ThePublicationThatLeavesTheDeviceNoBufferInterruptsWhateverTheFlag) {
  for (const bool rule : {false, true}) {
    SplitRing q(8);
    q.set_notify_on_empty(rule);
    publish(q, 3);
    q.disable_cb();  // the driver polls
    // The device works ahead: it has taken two chains when it publishes the first.
    const uint16_t a = q.pop_avail();
    q.push_used(a, 1);
    const uint16_t b = q.pop_avail();
    q.push_used(b, 1);
    q.flush_used(1);
    EXPECT_FALSE(q.should_interrupt()) << rule;  // one chain published, one held
    const uint16_t c = q.pop_avail();
    q.push_used(c, 1);
    q.flush_used(1);
    EXPECT_FALSE(q.device_out_of_buffers());
    EXPECT_FALSE(q.should_interrupt()) << rule;  // none published, but c's chain is held (QEMU: inuse)
    q.flush_used(1);
    EXPECT_TRUE(q.device_out_of_buffers());
    EXPECT_EQ(q.should_interrupt(), rule);  // nothing left: the 2008 QEMU interrupts
    // A chain taken and not yet returned is a buffer left, published or not.
    publish(q, 1);
    EXPECT_FALSE(q.should_interrupt()) << rule;
    const uint16_t d = q.pop_avail();
    EXPECT_FALSE(q.should_interrupt()) << rule;
    q.push_used(d, 1);
    q.flush_used(1);
    EXPECT_EQ(q.should_interrupt(), rule);
    // Interrupts enabled: the flag alone decides, as before.
    while (q.get_buf()) {}
    EXPECT_TRUE(q.enable_cb());
    EXPECT_TRUE(q.should_interrupt()) << rule;
    q.check_invariants();
  }
}

TEST(NotifyOnEmpty, IsTheFlagsRuleOnlyNotTheEventIndexs) {
  SplitRing q(8, true);
  EXPECT_THROW(q.set_notify_on_empty(true), InvariantError);
  q.set_notify_on_empty(false);  // off is off anywhere
  VirtQueue packed(8, false, false, true);
  EXPECT_THROW(packed.set_notify_on_empty(true), InvariantError);
  VirtQueue split(8, false, false, false);
  split.set_notify_on_empty(true);
  EXPECT_TRUE(split.split_ring()->notify_on_empty());
}

TEST(SplitRing, WrongTransitionsAreCaughtAsInvariantErrors) {
  SplitRing q(8);
  EXPECT_THROW(q.pop_avail(), InvariantError);      // nothing published
  EXPECT_THROW(q.push_used(0, 1), InvariantError);  // device does not hold it
  EXPECT_THROW(q.flush_used(1), InvariantError);    // nothing written
}

// ---- a device that defends itself against a faulty driver ------------------

/// Adds a chain of `n` descriptors and publishes it; returns its head.
uint16_t post(SplitRing& q, uint32_t n) {
  const auto h = q.add_inbuf(chain(n));
  EXPECT_TRUE(h.has_value());
  q.publish_avail();
  return *h;
}

/// The device returns the front chain unused and the driver takes it back.
void discard_and_reclaim(SplitRing& q, uint16_t head) {
  const auto h = q.discard_avail();
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(*h, head);
  q.push_used(*h, 0);
  q.flush_used(1);
  const auto e = q.get_buf();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, head);
  EXPECT_EQ(e->len, 0u);
  q.check_invariants();
  check_descriptor_graph(q);
}

TEST(ChainValidation, EachTamperedChainIsFoundAsItsKindAndReturnsCleanly) {
  for (ChainFault kind : {ChainFault::Loop, ChainFault::NextOutOfRange, ChainFault::ZeroLength, ChainFault::ReadOnly}) {
    SplitRing q(8);
    const uint16_t head = post(q, 3);
    EXPECT_EQ(q.check_next_chain(1024), ChainFault::None);
    tamper(q, head, kind);
    EXPECT_EQ(q.check_next_chain(1024), kind) << chain_fault_name(kind);
    // The device's view is bad; the driver's own record is intact.
    q.check_invariants();
    EXPECT_EQ(q.avail_bytes_upto(1 << 20), 0u) << "a faulty chain offers no bytes";
    discard_and_reclaim(q, head);
    EXPECT_EQ(q.num_free(), 8u);
    // Re-adding the descriptors writes them afresh: the next chain is fine.
    post(q, 3);
    EXPECT_EQ(q.check_next_chain(1024), ChainFault::None) << chain_fault_name(kind);
    EXPECT_EQ(q.next_chain_bytes(), 3u * 4096);
  }
}

TEST(ChainValidation, AChainAsAddedIsJudgedAsTheWalkJudgesIt) {
  // Until something writes over shared descriptors, the device's check reads
  // what add_inbuf() recorded instead of walking the chain. Two rings take
  // the same random chains (some with zero-length buffers, some in tables)
  // and the same device limits; one of them had a shared descriptor written
  // with the very value it held, so it always walks. Every verdict and byte
  // count must agree, limits below, at and above each chain's length.
  std::mt19937_64 rng(20261203);
  for (const bool indirect : {false, true}) {
    SplitRing fast(8, false, indirect), walked(8, false, indirect);  // tables longer than the ring
    const auto first = walked.add_inbuf(chain(1));
    ASSERT_TRUE(first.has_value() && fast.add_inbuf(chain(1)).has_value());
    walked.write_shared_desc(*first, walked.desc(*first));  // the same bytes: only the path changes
    size_t faults_seen = 0, passes_seen = 0;
    for (int step = 0; step < 4000; ++step) {
      const uint32_t r = static_cast<uint32_t>(rng() % 10);
      if (r < 4) {  // the driver posts a chain
        std::vector<BufferSeg> segs =
            chain(1 + static_cast<uint32_t>(rng() % 12), 1 + static_cast<uint32_t>(rng() % 9000));
        if (rng() % 4 == 0) segs[rng() % segs.size()].len = 0;
        const auto a = fast.add_inbuf(segs), b = walked.add_inbuf(segs);
        ASSERT_EQ(a, b);
        fast.publish_avail();
        walked.publish_avail();
      } else if (r < 7) {  // the device judges the front chain, and every posted one
        const auto limit = static_cast<uint32_t>(rng() % 15);
        uint64_t fast_bytes = 7, walked_bytes = 9;
        const ChainFault f = fast.check_next_chain(limit, &fast_bytes);
        ASSERT_EQ(f, walked.check_next_chain(limit, &walked_bytes)) << "step " << step << " limit " << limit;
        ASSERT_EQ(fast_bytes, walked_bytes) << "step " << step;
        ASSERT_EQ(fast.avail_bytes_upto(1 << 20, limit), walked.avail_bytes_upto(1 << 20, limit));
        (f == ChainFault::None ? passes_seen : faults_seen) += fast.avail_pending() > 0;
      } else if (fast.avail_pending() > 0) {  // the device takes the front chain and returns it
        const uint16_t h = fast.pop_avail();
        ASSERT_EQ(h, walked.pop_avail());
        fast.push_used(h, 0);
        walked.push_used(h, 0);
        fast.flush_used(1);
        walked.flush_used(1);
        ASSERT_EQ(fast.get_buf()->id, walked.get_buf()->id);
      }
    }
    fast.check_invariants();
    EXPECT_GT(faults_seen, 100u) << "the walk must have found zero-length and too-long chains";
    EXPECT_GT(passes_seen, 100u);
  }
}

TEST(ChainValidation, AChainLongerThanTheDeviceAcceptsIsTooLong) {
  SplitRing q(32);
  post(q, 20);
  EXPECT_EQ(q.check_next_chain(20), ChainFault::None);
  EXPECT_EQ(q.check_next_chain(19), ChainFault::TooLong);
  EXPECT_EQ(q.avail_bytes_upto(1 << 20, 19), 0u);
  EXPECT_EQ(q.avail_bytes_upto(1 << 20, 20), 20u * 4096);
}

TEST(ChainValidation, AHeadAddedTwiceIsInFlightTheSecondTime) {
  SplitRing q(8);
  const uint16_t head = post(q, 2);
  ASSERT_TRUE(add_stray_avail(q, head));
  q.publish_avail();
  EXPECT_EQ(q.stray_avail(), 1u);
  q.check_invariants();
  // The two entries name one chain: its bytes count once.
  EXPECT_EQ(q.avail_bytes_upto(1 << 20), 2u * 4096);
  EXPECT_EQ(q.check_next_chain(1024), ChainFault::None);
  EXPECT_EQ(q.pop_avail(), head);
  EXPECT_EQ(q.check_next_chain(1024), ChainFault::HeadInFlight);
  EXPECT_FALSE(q.discard_avail().has_value()) << "a stray entry has no chain to return";
  EXPECT_EQ(q.stray_avail(), 0u);
  EXPECT_EQ(q.avail_pending(), 0u);
  q.check_invariants();
  check_descriptor_graph(q);
}

TEST(ChainValidation, AStrayEntryNeverHandsTheDeviceAChainNotYetPublished) {
  // Found by the property test (a double add, 9 queues): the stray entry of
  // a head added twice outlived the chain; the driver added a new chain at
  // that head and, before publishing it (it was still paying for the
  // refill), the device followed the stray entry and took the unpublished
  // chain: taken before it was posted.
  SplitRing q(8);
  const uint16_t h = *q.add_inbuf(chain(2));
  ASSERT_TRUE(add_stray_avail(q, h));
  q.publish_avail();
  q.push_used(q.pop_avail(), 1);  // the real entry
  q.flush_used(1);
  ASSERT_TRUE(q.get_buf().has_value());
  const uint16_t again = *q.add_inbuf(chain(2));  // the same head, added, not published
  ASSERT_EQ(again, h);
  EXPECT_EQ(q.check_next_chain(1024), ChainFault::HeadInFlight);
  EXPECT_EQ(q.avail_bytes_upto(1 << 20), 0u);
  EXPECT_FALSE(q.discard_avail().has_value());  // the stray is consumed; the chain stays posted
  EXPECT_EQ(q.state(h), DescState::Posted);
  EXPECT_EQ(q.avail_pending(), 0u);
  q.check_invariants();
  q.publish_avail();
  EXPECT_EQ(q.check_next_chain(1024), ChainFault::None);
  EXPECT_EQ(q.pop_avail(), h);
  q.check_invariants();
}

TEST(ChainValidation, AnIndexPastTheTableIsOutOfRange) {
  SplitRing q(8);
  post(q, 1);
  ASSERT_TRUE(add_stray_avail(q, 0xffff));
  q.publish_avail();
  q.pop_avail();
  EXPECT_EQ(q.check_next_chain(1024), ChainFault::HeadOutOfRange);
  EXPECT_FALSE(q.discard_avail().has_value());
  q.check_invariants();
}

TEST(ChainValidation, StrayEntriesNeverLetTheDriverOverrunTheAvailRing) {
  SplitRing q(4);
  ASSERT_TRUE(add_stray_avail(q, 0xffff));
  ASSERT_TRUE(add_stray_avail(q, 0xffff));
  EXPECT_TRUE(q.add_inbuf(chain(1)).has_value());
  EXPECT_TRUE(q.add_inbuf(chain(1)).has_value());
  // Four entries the device has not read: the ring is full though two descriptors are free.
  EXPECT_EQ(q.num_free(), 2u);
  EXPECT_FALSE(q.add_inbuf(chain(1)).has_value());
  EXPECT_FALSE(add_stray_avail(q, 0xffff));
  q.check_invariants();
}

TEST(DescriptorGraph, CountsChainsAndTheLongestAcrossStates) {
  SplitRing q(16);
  post(q, 3);
  post(q, 5);
  post(q, 1);
  const uint16_t h = q.pop_avail();  // the 3-chain goes to the device
  q.push_used(h, 100);
  q.flush_used(1);  // and back on the used ring
  q.pop_avail();    // the 5-chain is held by the device
  const DescGraphFigures f = check_descriptor_graph(q);
  EXPECT_EQ(f.chains, 3u);
  EXPECT_EQ(f.in_use, 9u);
  EXPECT_EQ(f.longest, 5u);
}

// ---- indirect descriptors (VIRTIO_RING_F_INDIRECT_DESC) --------------------

TEST(ChainValidation, ALoopIsFoundWhereverItClosesUnlessTheLimitComesFirst) {
  // The device's walk marks each descriptor before it counts the step: a
  // link back to the middle of a chain is a Loop, but a limit reached
  // before the walk comes back is TooLong. The same in a ring's table and
  // in an indirect one (one walk, two tables).
  SplitRing q(8);
  const uint16_t head = post(q, 4);  // descriptors 0..3
  const uint16_t tail = q.chain_tail(head);
  Descriptor d = q.desc(tail);
  d.flags |= kVringDescFNext;
  d.next = q.desc(head).next;  // back to the second
  q.write_shared_desc(tail, d);
  EXPECT_EQ(q.check_next_chain(1024), ChainFault::Loop);
  EXPECT_EQ(q.check_next_chain(4), ChainFault::Loop) << "the fifth step comes back before the limit counts it";
  EXPECT_EQ(q.check_next_chain(3), ChainFault::TooLong);
  // The driver's own record is not what the driver wrote over.
  EXPECT_EQ(q.chain_tail(head), tail);
  EXPECT_EQ(q.chain_bytes(head), 4u * 4096);
  EXPECT_EQ(q.chain_descriptors(head), 4u);
  q.check_invariants();

  SplitRing t(8, false, true);
  const uint16_t th = *t.add_inbuf(chain(4));
  t.publish_avail();
  Descriptor e = t.table(th)[3];
  e.flags |= kVringDescFNext;
  e.next = 1;
  t.write_shared_table_entry(th, 3, e);
  EXPECT_EQ(t.check_next_chain(1024), ChainFault::Loop);
  EXPECT_EQ(t.check_next_chain(4), ChainFault::Loop);
  EXPECT_EQ(t.check_next_chain(3), ChainFault::TooLong);
  EXPECT_EQ(t.chain_tail(th), th) << "a table is one ring descriptor";
  EXPECT_EQ(t.chain_bytes(th), 4u * 4096);
  t.check_invariants();
}

TEST(ChainValidation, ATableIsRefusedAnywhereButAloneAtTheHead) {
  for (const bool at_head : {true, false}) {
    SplitRing q(8);
    const uint16_t head = post(q, 3);
    const uint16_t i = at_head ? head : q.desc(head).next;
    Descriptor d = q.desc(i);
    d.flags |= kVringDescFIndirect;  // a whole entry of table: only its place is wrong
    d.len = kDescriptorBytes;
    q.write_shared_desc(i, d);  // at the head it keeps NEXT: a table chained on
    EXPECT_EQ(q.check_next_chain(1024), ChainFault::BadIndirect) << (at_head ? "head" : "second");
    q.check_invariants();
  }
}

TEST(ChainValidation, StrayEntriesAndWrittenChainsAreCountedTogether) {
  // avail_bytes_upto marks the heads it counted while each chain's check
  // marks the descriptors it walked: neither pass may disturb the other.
  SplitRing q(16);
  const uint16_t a = post(q, 2);
  ASSERT_TRUE(add_stray_avail(q, a));
  const uint16_t b = post(q, 3);
  tamper(q, b, ChainFault::Loop);
  post(q, 1);
  ASSERT_TRUE(add_stray_avail(q, a));
  q.publish_avail();
  for (int pass = 0; pass < 3; ++pass) EXPECT_EQ(q.avail_bytes_upto(1 << 20), 3u * 4096) << "pass " << pass;
  EXPECT_EQ(q.stray_avail(), 2u);
  q.check_invariants();
  check_descriptor_graph(q);
}

TEST(SplitRing, AMovedRingKeepsWhatAFaultyDriverWrote) {
  SplitRing q(8);
  const uint16_t head = post(q, 2);
  tamper(q, head, ChainFault::ReadOnly);
  ASSERT_TRUE(add_stray_avail(q, head));
  SplitRing moved = std::move(q);
  EXPECT_EQ(moved.check_next_chain(1024), ChainFault::ReadOnly);
  EXPECT_EQ(moved.stray_avail(), 1u);
  moved.check_invariants();
}

TEST(Indirect, AChainOfSeveralBuffersTakesOneRingDescriptorAndATable) {
  SplitRing q(256, false, true);
  uint32_t added_descs = 0;
  const auto h = q.add_inbuf(chain(19), &added_descs);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(added_descs, 1u);
  EXPECT_EQ(q.num_free(), 255u);
  EXPECT_EQ(q.desc(*h).flags, kVringDescFIndirect);
  EXPECT_EQ(q.desc(*h).len, 19u * 16);  // the table: 19 entries of 16 bytes
  EXPECT_EQ(q.chain_descriptors(*h), 19u);
  EXPECT_EQ(q.chain_bytes(*h), 19u * 4096);
  q.publish_avail();
  uint64_t bytes = 0;
  EXPECT_EQ(q.check_next_chain(1024, &bytes), ChainFault::None);
  EXPECT_EQ(bytes, 19u * 4096);
  std::vector<BufferSeg> segs;
  uint32_t ring_descs = 0;
  ChainTotals totals;
  q.push_used(q.pop_avail(&segs, &ring_descs, &totals), 5000);
  EXPECT_EQ(segs.size(), 19u);
  EXPECT_EQ(ring_descs, 1u);  // one ring descriptor, the table's
  EXPECT_EQ(totals.buffers, 19u);  // the table's entries, not the ring descriptor
  EXPECT_EQ(totals.bytes, 19u * 4096);
  EXPECT_EQ(q.ring_descriptors(*h), 1u);
  EXPECT_EQ(segs[18].addr, 0x1000ull * 19);
  q.flush_used(1);
  q.check_invariants();
  check_descriptor_graph(q);
  EXPECT_TRUE(q.get_buf().has_value());
  EXPECT_EQ(q.num_free(), 256u);
  EXPECT_TRUE(q.table(*h).empty());  // freed with the chain
  // One buffer never goes through a table (total_sg > 1 only).
  const auto one = q.add_inbuf(chain(1));
  EXPECT_EQ(q.desc(*one).flags, kVringDescFWrite);
}

TEST(Indirect, A256RingHolds256NineteenBufferChainsWithTablesAnd13Without) {
  for (const bool ind : {true, false}) {
    SplitRing q(256, false, ind);
    uint32_t n = 0;
    while (q.add_inbuf(chain(19))) ++n;
    EXPECT_EQ(n, ind ? 256u : 13u);
    q.publish_avail();
    q.check_invariants();
  }
}

TEST(Indirect, TamperedTablesAreFoundAsTheirKind) {
  for (ChainFault kind : {ChainFault::Loop, ChainFault::NextOutOfRange, ChainFault::ZeroLength, ChainFault::ReadOnly,
                          ChainFault::BadIndirect}) {
    SplitRing q(8, false, true);
    const uint16_t head = *q.add_inbuf(chain(4));
    q.publish_avail();
    EXPECT_EQ(q.check_next_chain(1024), ChainFault::None);
    tamper(q, head, kind);
    EXPECT_EQ(q.check_next_chain(1024), kind) << chain_fault_name(kind);
    q.check_invariants();
    EXPECT_EQ(q.avail_bytes_upto(1 << 20), 0u);
    discard_and_reclaim(q, head);
    EXPECT_EQ(q.num_free(), 8u);
    q.add_inbuf(chain(4));
    q.publish_avail();
    EXPECT_EQ(q.check_next_chain(1024), ChainFault::None) << "the table is written afresh";
  }
  // A table entry that is itself indirect, and a table longer than the device accepts.
  SplitRing q(8, false, true);
  const uint16_t head = *q.add_inbuf(chain(4));
  q.publish_avail();
  EXPECT_EQ(q.check_next_chain(3), ChainFault::TooLong);
  Descriptor d = q.table(head)[1];
  d.flags |= kVringDescFIndirect;
  q.write_shared_table_entry(head, 1, d);
  EXPECT_EQ(q.check_next_chain(1024), ChainFault::BadIndirect);
  // On a direct chain, a head marked indirect with half an entry of table.
  SplitRing r(8);
  const uint16_t h2 = post(r, 2);
  tamper(r, h2, ChainFault::BadIndirect);
  EXPECT_EQ(r.check_next_chain(1024), ChainFault::BadIndirect);
}

}  // namespace
}  // namespace vringsim

namespace vringsim {
namespace {
/// The device publishes one used entry (taking the next chain).
void use_one(SplitRing& q) {
  q.push_used(q.pop_avail(), 1);
  q.flush_used(1);
}
}  // namespace

// virtqueue_disable_cb_split writes once per enable (its shadow), and not at
// all once an interrupt was taken with the event index (event_triggered):
// used_event stays where enable_cb put it, not 0.
TEST(EventIdx, AnInterruptTakenLeavesUsedEventWhereTheDriverPutIt) {
  SplitRing q(8, true);
  publish(q, 8);
  use_one(q);
  EXPECT_TRUE(q.should_interrupt());  // the first ask always interrupts
  ASSERT_TRUE(q.get_buf());
  EXPECT_TRUE(q.enable_cb());
  EXPECT_EQ(q.used_event(), 1u);
  use_one(q);
  EXPECT_TRUE(q.should_interrupt());  // used idx 1 -> 2 passes used_event 1
  q.interrupt_taken();
  q.disable_cb();
  EXPECT_EQ(q.used_event(), 1u);  // not the "hack" 0
  use_one(q);
  EXPECT_FALSE(q.should_interrupt());
  // Without an interrupt taken, disabling writes 0; a second disable writes nothing.
  while (q.get_buf()) {}
  EXPECT_TRUE(q.enable_cb());
  EXPECT_EQ(q.used_event(), 3u);
  q.disable_cb();
  EXPECT_EQ(q.used_event(), 0u);
}

// The flags: the shared flag follows the driver's shadow, once per change.
TEST(SplitRing, TheInterruptFlagIsWrittenOncePerChangeAndAnInterruptTakenChangesNothing) {
  SplitRing q(8);
  EXPECT_EQ(q.avail_flags(), 0u);  // a fresh ring takes interrupts
  q.interrupt_taken();             // no event index: no event_triggered
  q.disable_cb();
  EXPECT_EQ(q.avail_flags(), kVringAvailFNoInterrupt);
  EXPECT_TRUE(q.enable_cb());
  EXPECT_EQ(q.avail_flags(), 0u);
}
}  // namespace vringsim

namespace vringsim {
namespace {

using test_support::chain;

// A plain run keeps only the counts per state (no walk in pop_avail or
// flush_used); --check and fault injection keep each descriptor's. The two
// must agree on everything else, step by step.
TEST(DescriptorTracking, ARingWithoutStatesAgreesWithOneWithThemStepByStep) {
  for (const bool indirect : {false, true}) {
    SplitRing tracked(64, false, indirect), plain(64, false, indirect);
    plain.set_descriptor_tracking(false);
    ASSERT_FALSE(plain.descriptor_tracking());
    std::mt19937_64 rng(20261207);
    uint32_t pops = 0, flushed = 0, collected = 0;
    for (int step = 0; step < 20000; ++step) {
      const int op = static_cast<int>(rng() % 5);
      if (op == 0) {
        const auto segs = chain(1 + static_cast<uint32_t>(rng() % 5), 1 + static_cast<uint32_t>(rng() % 4096));
        uint32_t rd_a = 0, rd_b = 0;
        const auto a = tracked.add_inbuf(segs, &rd_a), b = plain.add_inbuf(segs, &rd_b);
        ASSERT_EQ(a, b) << step;
        ASSERT_EQ(rd_a, rd_b) << step;
      } else if (op == 1) {
        ASSERT_EQ(tracked.publish_avail(), plain.publish_avail()) << step;
      } else if (op == 2 && tracked.avail_pending() > 0) {
        uint32_t rd_a = 0, rd_b = 0;
        ChainTotals t_a, t_b;
        const uint16_t a = tracked.pop_avail(nullptr, &rd_a, &t_a), b = plain.pop_avail(nullptr, &rd_b, &t_b);
        ASSERT_EQ(a, b) << step;
        ASSERT_EQ(rd_a, rd_b) << step;  // ring descriptors: walked on one side, from the record on the other
        ASSERT_EQ(t_a.buffers, t_b.buffers) << step;
        tracked.push_used(a, 100);
        plain.push_used(b, 100);
        ++pops;
      } else if (op == 3 && tracked.used_unflushed() > 0) {
        const uint32_t n = 1 + static_cast<uint32_t>(rng() % tracked.used_unflushed());
        tracked.flush_used(n);
        plain.flush_used(n);
        flushed += n;
      } else if (op == 4) {
        const auto a = tracked.get_buf(), b = plain.get_buf();
        ASSERT_EQ(a.has_value(), b.has_value()) << step;
        if (a) {
          ASSERT_EQ(a->id, b->id) << step;
          ++collected;
        }
      }
      for (const DescState s : {DescState::Free, DescState::Posted, DescState::Device, DescState::Used})
        ASSERT_EQ(tracked.count(s), plain.count(s)) << step << " " << desc_state_name(s);
      ASSERT_EQ(tracked.num_free(), plain.num_free()) << step;
      ASSERT_EQ(tracked.device_out_of_buffers(), plain.device_out_of_buffers()) << step;
      if (step % 97 == 0) {
        tracked.check_invariants();
        plain.check_invariants();  // the structure and the counts, without states
      }
    }
    // The walk reached every state many times over.
    EXPECT_GT(pops, 2000u);
    EXPECT_GT(flushed, 1000u);
    EXPECT_GT(collected, 1000u);
  }
}

TEST(DescriptorTracking, WhatReadsOneDescriptorsStateNeedsIt) {
  SplitRing plain(8);
  plain.set_descriptor_tracking(false);
  const auto head = plain.add_inbuf(chain(2));
  ASSERT_TRUE(head);
  EXPECT_THROW((void)plain.state(*head), InvariantError);
  // A faulty driver's writes are checked against the states.
  EXPECT_THROW(plain.write_shared_desc(*head, Descriptor{}), InvariantError);
  // Switched only while every descriptor is free.
  EXPECT_THROW(plain.set_descriptor_tracking(true), InvariantError);
  SplitRing tracked(8);
  ASSERT_TRUE(tracked.descriptor_tracking());  // on when made
  ASSERT_TRUE(tracked.add_inbuf(chain(2)));
  EXPECT_THROW(tracked.set_descriptor_tracking(false), InvariantError);
}

}  // namespace
}  // namespace vringsim

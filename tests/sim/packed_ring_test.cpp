#include "sim/core/packed_ring.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "sim/core/desc_graph.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/ring_faults.hpp"
#include "sim/core/virtqueue.hpp"
#include "tests/sim/ring_fixtures.hpp"

namespace vringsim {
namespace {

using test_support::chain;

bool avail_bit(const PackedDesc& d) { return (d.flags & kPackedDescFAvail) != 0; }
bool used_bit(const PackedDesc& d) { return (d.flags & kPackedDescFUsed) != 0; }

/// One buffer through the whole ring: add, publish, take, return, collect.
UsedElem cycle(PackedRing& q, uint32_t n, uint32_t written = 100) {
  const auto id = q.add_inbuf(chain(n));
  EXPECT_TRUE(id.has_value());
  q.publish_avail();
  EXPECT_EQ(q.check_next_chain(64), ChainFault::None);
  EXPECT_EQ(q.pop_avail(), *id);
  q.push_used(*id, written);
  q.flush_used(1);
  const auto e = q.get_buf();
  EXPECT_TRUE(e.has_value());
  return *e;
}

TEST(PackedRingSize, DescriptorRingPlusTwoEventAreas) {
  // 16 bytes per descriptor, 4 + 4 for the driver and device event
  // suppression areas (virtio 1.x 2.8.10.1), by hand:
  EXPECT_EQ(packed_ring_size(256), 4096u + 8);
  EXPECT_EQ(packed_ring_size(300), 4800u + 8);
  EXPECT_EQ(packed_ring_size(1), 24u);
  EXPECT_EQ(packed_ring_size(32768), 524288u + 8);
  EXPECT_EQ(VirtQueue(256, true, true, true).bytes(), 4104u);
  EXPECT_EQ(VirtQueue(256, true, true, false).bytes(), 10246u);  // the split ring of the same features
}

TEST(PackedRing, TakesSizesThatAreNotPowersOfTwo) {
  EXPECT_TRUE(is_valid_packed_size(3));
  EXPECT_TRUE(is_valid_packed_size(300));
  EXPECT_TRUE(is_valid_packed_size(32768));
  EXPECT_FALSE(is_valid_packed_size(0));
  EXPECT_FALSE(is_valid_packed_size(32769));
  EXPECT_THROW(PackedRing(0), InvariantError);
  PackedRing q(300);
  EXPECT_EQ(q.size(), 300u);
  EXPECT_EQ(q.num_free(), 300u);
}

TEST(PackedRing, ChainIsWrittenWithTheWrapBitsAndPublishedByItsHead) {
  PackedRing q(8);
  const auto id = q.add_inbuf(chain(3));
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 0u);  // Buffer IDs from 0 up
  // Lap 0, wrap counter 1: available is AVAIL=1, USED=0. Until published,
  // the head is not available; the rest of the chain already is.
  EXPECT_FALSE(avail_bit(q.chain_desc(*id, 0)));
  EXPECT_TRUE(avail_bit(q.chain_desc(*id, 1)) && !used_bit(q.chain_desc(*id, 1)));
  EXPECT_EQ(q.avail_pending(), 0u);
  EXPECT_EQ(q.check_next_chain(64), ChainFault::None);  // nothing to check yet
  EXPECT_EQ(q.publish_avail(), 1u);
  EXPECT_TRUE(avail_bit(q.chain_desc(*id, 0)) && !used_bit(q.chain_desc(*id, 0)));
  EXPECT_EQ(q.avail_pending(), 1u);
  // NEXT on all but the last; the Buffer ID in the last (2.8.6).
  EXPECT_TRUE(q.chain_desc(*id, 0).flags & kVringDescFNext);
  EXPECT_TRUE(q.chain_desc(*id, 1).flags & kVringDescFNext);
  EXPECT_FALSE(q.chain_desc(*id, 2).flags & kVringDescFNext);
  EXPECT_EQ(q.chain_desc(*id, 2).id, *id);
  EXPECT_EQ(q.num_free(), 5u);
  EXPECT_EQ(q.count(DescState::Posted), 3u);
  q.check_invariants();
}

TEST(PackedRing, AddFailsWithoutChangingAnythingWhenTooFewSlotsAreFree) {
  PackedRing q(5);
  ASSERT_TRUE(q.add_inbuf(chain(3)));
  EXPECT_FALSE(q.add_inbuf(chain(3)));
  EXPECT_EQ(q.num_free(), 2u);
  EXPECT_FALSE(q.add_inbuf({}));
  ASSERT_TRUE(q.add_inbuf(chain(2)));
  EXPECT_EQ(q.num_free(), 0u);
  q.check_invariants();
}

TEST(PackedRing, FullCycleMovesEachBufferThroughEveryStateAndFreesItsSlots) {
  PackedRing q(5);
  uint32_t added_descs = 0;
  const uint16_t id = *q.add_inbuf(chain(3, 1000), &added_descs);
  EXPECT_EQ(added_descs, 3u);
  EXPECT_EQ(q.state(id), DescState::Posted);
  q.publish_avail();
  std::vector<BufferSeg> segs;
  uint32_t ring_descs = 0;
  ChainTotals totals;
  EXPECT_EQ(q.pop_avail(&segs, &ring_descs, &totals), id);
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(ring_descs, 3u);  // the ring slots the buffer took
  EXPECT_EQ(totals.buffers, 3u);
  EXPECT_EQ(totals.bytes, 3000u);
  EXPECT_EQ(segs[2].len, 1000u);
  EXPECT_EQ(q.state(id), DescState::Device);
  EXPECT_EQ(q.count(DescState::Device), 3u);
  q.push_used(id, 2500);
  EXPECT_EQ(q.used_pending(), 0u);  // written, not yet visible
  q.check_invariants();
  q.flush_used(1);
  EXPECT_EQ(q.state(id), DescState::Used);
  EXPECT_EQ(q.used_pending(), 1u);
  q.check_invariants();
  const auto e = q.get_buf();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, id);
  EXPECT_EQ(e->len, 2500u);
  EXPECT_EQ(q.state(id), DescState::Free);
  EXPECT_EQ(q.num_free(), 5u);
  EXPECT_FALSE(q.get_buf());
  // The used descriptor overwrote the chain's first slot: AVAIL = USED = 1.
  EXPECT_EQ(q.used_slots(), 3u);
  q.check_invariants();
}

TEST(PackedRing, WrapCountersFlipAtTheEndOfTheRing) {
  PackedRing q(3);
  EXPECT_TRUE(q.avail_wrap());
  cycle(q, 2);
  EXPECT_TRUE(q.avail_wrap());  // 2 of 3 slots
  cycle(q, 2);                  // slots 2, 0: crosses the end
  EXPECT_FALSE(q.avail_wrap());
  EXPECT_FALSE(q.used_wrap());
  // A chain across the end: its second descriptor is in lap 1, wrap 0,
  // so available there is AVAIL=0, USED=1.
  const uint16_t id = *q.add_inbuf(chain(2));  // slots 1, 2
  const uint16_t id2 = *q.add_inbuf(chain(1));  // slot 0 of lap 2
  (void)id2;
  EXPECT_TRUE(!avail_bit(q.chain_desc(id, 1)) && used_bit(q.chain_desc(id, 1)));
  q.publish_avail();
  EXPECT_EQ(q.avail_pending(), 2u);
  q.check_invariants();
}

TEST(PackedRing, WrapsPast65536UsesOnARingThatIsNotAPowerOfTwo) {
  // 70,000 buffers of 1 or 2 descriptors through a ring of 3: positions
  // pass 2^16 and the wrap counter flips tens of thousands of times.
  PackedRing q(3, true);
  uint64_t slots = 0;
  for (uint32_t k = 0; k < 70000; ++k) {
    const uint32_t n = 1 + k % 2;
    const UsedElem e = cycle(q, n, k % 1000 + 1);
    EXPECT_EQ(e.len, k % 1000 + 1);
    slots += n;
    if (k % 997 == 0) q.check_invariants();
  }
  EXPECT_EQ(q.used_slots(), slots);
  EXPECT_EQ(q.num_free(), 3u);
  EXPECT_EQ(q.count(DescState::Free), 3u);
  q.check_invariants();
}

TEST(PackedRing, OutOfOrderReturnsAreCollectedInTheOrderUsed) {
  // A (2 slots) and B (1 slot) taken; B returned first. The device writes
  // B's used descriptor at A's first slot and skips one slot; A's goes at
  // slot 1 and skips two (2.8.6).
  PackedRing q(4);
  const uint16_t a = *q.add_inbuf(chain(2));
  const uint16_t b = *q.add_inbuf(chain(1));
  q.publish_avail();
  EXPECT_EQ(q.pop_avail(), a);
  EXPECT_EQ(q.pop_avail(), b);
  q.push_used(b, 10);
  q.push_used(a, 20);
  q.check_invariants();
  q.flush_used(2);
  q.check_invariants();
  EXPECT_EQ(q.get_buf()->id, b);
  EXPECT_EQ(q.num_free(), 2u);  // B took one slot
  EXPECT_EQ(q.get_buf()->id, a);
  EXPECT_EQ(q.num_free(), 4u);
  q.check_invariants();
  // The next buffer starts where A and B ended.
  cycle(q, 3);
  q.check_invariants();
}

TEST(PackedRing, KicksFollowTheDeviceEventArea) {
  PackedRing q(8);
  q.add_inbuf(chain(1));
  q.publish_avail();
  EXPECT_TRUE(q.kick_needed(1));  // ENABLE at reset
  q.set_notification(false);
  EXPECT_EQ(q.device_event().flags, kPackedEventDisable);
  q.add_inbuf(chain(1));
  q.publish_avail();
  EXPECT_FALSE(q.kick_needed(1));
  q.set_notification(true);
  EXPECT_EQ(q.device_event().flags, kPackedEventEnable);
  EXPECT_TRUE(q.kick_needed(1));
}

TEST(PackedRing, WithTheEventIndexTheDeviceAsksForTheNextSlotMadeAvailable) {
  PackedRing q(5, true);
  q.set_notification(true);  // DESC at slot 0, wrap 1
  EXPECT_EQ(q.device_event().flags, kPackedEventDesc);
  EXPECT_EQ(q.device_event().off_wrap, 0x8000u);
  q.add_inbuf(chain(2));
  q.publish_avail();
  EXPECT_TRUE(q.kick_needed(1));  // slot 0 was among those made available
  q.add_inbuf(chain(2));
  q.publish_avail();
  EXPECT_FALSE(q.kick_needed(1));  // the device has not asked again
  q.set_notification(true);       // now at slot 4
  EXPECT_EQ(q.device_event().off_wrap, 0x8004u);
  q.add_inbuf(chain(1));
  q.publish_avail();
  EXPECT_TRUE(q.kick_needed(1));
  q.set_notification(false);
  EXPECT_EQ(q.device_event().flags, kPackedEventDisable);
}

TEST(PackedRing, EventPositionsStayExactAcrossWrapsAndPast65536) {
  // A device that asks for a kick before every publication gets one every
  // time, and one that asks for an interrupt gets one every time, across
  // 70,000 laps of a ring of 3 with chains of 2 (they straddle the end).
  PackedRing q(3, true);
  for (uint32_t k = 0; k < 70000; ++k) {
    q.set_notification(true);
    const uint16_t id = *q.add_inbuf(chain(2));
    q.publish_avail();
    ASSERT_TRUE(q.kick_needed(1)) << k;
    q.disable_cb();  // the driver polled
    ASSERT_TRUE(q.enable_cb());
    q.pop_avail();
    q.push_used(id, 1);
    q.flush_used(1);
    ASSERT_TRUE(q.should_interrupt()) << k;
    ASSERT_FALSE(q.should_interrupt()) << k;  // nothing new since the last ask
    q.get_buf();
  }
  q.check_invariants();
}

TEST(PackedRing, InterruptsFollowTheDriverEventArea) {
  PackedRing q(8, true);
  // The first ask always interrupts (signalled_used_valid is false).
  for (int k = 0; k < 3; ++k) q.add_inbuf(chain(1));
  q.publish_avail();
  // A fresh ring's driver area says ENABLE (virtqueue_vring_init_packed);
  // enable_cb writes DESC once the driver has disabled (its shadow).
  EXPECT_EQ(q.driver_event().flags, kPackedEventEnable);
  q.disable_cb();
  EXPECT_TRUE(q.enable_cb());
  EXPECT_EQ(q.driver_event().flags, kPackedEventDesc);
  EXPECT_EQ(q.driver_event().off_wrap, 0x8000u);
  const uint16_t a = q.pop_avail();
  q.push_used(a, 1);
  q.flush_used(1);
  EXPECT_TRUE(q.should_interrupt());
  const uint16_t b = q.pop_avail();
  q.push_used(b, 1);
  q.flush_used(1);
  EXPECT_FALSE(q.should_interrupt());  // the driver asked for slot 0 only
  q.disable_cb();
  EXPECT_EQ(q.driver_event().flags, kPackedEventDisable);
  EXPECT_FALSE(q.enable_cb());  // two used descriptors already wait
  EXPECT_EQ(q.driver_event().off_wrap, 0x8000u);
  q.get_buf();
  q.get_buf();
  EXPECT_TRUE(q.enable_cb());
  EXPECT_EQ(q.driver_event().off_wrap, 0x8002u);
  const uint16_t c = q.pop_avail();
  q.push_used(c, 1);
  q.flush_used(1);
  EXPECT_TRUE(q.should_interrupt());
  // Without the event index the flags decide alone.
  PackedRing f(8);
  f.add_inbuf(chain(1));
  f.publish_avail();
  const uint16_t d = f.pop_avail();
  f.push_used(d, 1);
  f.disable_cb();
  EXPECT_FALSE(f.should_interrupt());
  f.enable_cb();
  EXPECT_EQ(f.driver_event().flags, kPackedEventEnable);
  EXPECT_TRUE(f.should_interrupt());
  EXPECT_TRUE(f.should_interrupt());
}

TEST(PackedRing, IndirectTablesTakeOneSlot) {
  // Big packets: 19 buffers. With indirect descriptors one slot and a
  // 19 x 16 = 304-byte table; without, 19 slots, so 256 slots hold 13.
  PackedRing ind(256, false, true), flat(256, false, false);
  const auto segs = chain(19);
  const uint16_t id = *ind.add_inbuf(segs);
  EXPECT_EQ(ind.ring_descriptors(id), 1u);
  EXPECT_EQ(ind.table_bytes(id), 304u);
  EXPECT_EQ(ind.chain_descriptors(id), 19u);
  EXPECT_EQ(ind.chain_bytes(id), 19u * 4096);
  EXPECT_TRUE(ind.chain_desc(id, 0).flags & kVringDescFIndirect);
  ind.publish_avail();
  uint64_t bytes = 0;
  EXPECT_EQ(ind.check_next_chain(64, &bytes), ChainFault::None);
  EXPECT_EQ(bytes, 19u * 4096);
  EXPECT_EQ(ind.check_next_chain(18), ChainFault::TooLong);  // the device's limit counts table entries
  uint32_t n = 0;
  while (flat.add_inbuf(segs)) ++n;
  EXPECT_EQ(n, 13u);
  EXPECT_EQ(flat.table_bytes(0), 0u);
  // One buffer never uses a table (total_sg > 1).
  EXPECT_EQ(ind.table_bytes(*ind.add_inbuf(chain(1))), 0u);
  ind.check_invariants();
  flat.check_invariants();
}

TEST(PackedRing, DeviceFindsEachFaultADriverCanWrite) {
  for (const bool indirect : {false, true}) {
    for (const ChainFault kind : {ChainFault::ZeroLength, ChainFault::ReadOnly, ChainFault::BadIndirect}) {
      PackedRing q(16, false, indirect);
      const uint16_t good = *q.add_inbuf(chain(2, 1500));
      const uint16_t bad = *q.add_inbuf(chain(3));
      const uint16_t after = *q.add_inbuf(chain(2, 700));
      tamper(q, bad, kind);
      q.publish_avail();
      // The sum skips the faulty chain but goes on past it.
      EXPECT_EQ(q.avail_bytes_upto(1u << 20), 3000u + 1400u) << chain_fault_name(kind) << indirect;
      EXPECT_EQ(q.check_next_chain(64), ChainFault::None);
      EXPECT_EQ(q.pop_avail(), good);
      EXPECT_EQ(q.check_next_chain(64), kind) << chain_fault_name(kind) << " indirect " << indirect;
      // The device consumes it and returns it unused; the driver gets it back.
      EXPECT_EQ(q.discard_avail(), bad);
      q.push_used(good, 3000);
      q.push_used(bad, 0);
      q.flush_used(2);
      EXPECT_EQ(q.check_next_chain(64), ChainFault::None);
      EXPECT_EQ(q.pop_avail(), after);
      EXPECT_EQ(q.get_buf()->id, good);
      const UsedElem e = *q.get_buf();
      EXPECT_EQ(e.id, bad);
      EXPECT_EQ(e.len, 0u);
      // Re-added, the chain is written afresh and is fine again.
      const uint16_t again = *q.add_inbuf(chain(3));
      q.publish_avail();
      (void)again;
      q.check_invariants();
    }
  }
}

TEST(PackedRing, TooLongChainsAreTheDevicesLimit) {
  PackedRing q(16);
  q.add_inbuf(chain(5));
  q.publish_avail();
  EXPECT_EQ(q.check_next_chain(4), ChainFault::TooLong);
  EXPECT_EQ(q.check_next_chain(5), ChainFault::None);
}

TEST(PackedRing, ATamperedChainKeepsItsWrapBitsUnpublished) {
  // The driver writes a bad length before it publishes: the head must
  // stay unavailable until publish_avail (its flags are the publication).
  PackedRing q(8);
  const uint16_t id = *q.add_inbuf(chain(2));
  tamper(q, id, ChainFault::ReadOnly);
  EXPECT_EQ(q.avail_pending(), 0u);
  EXPECT_FALSE(avail_bit(q.chain_desc(id, 0)));
  q.publish_avail();
  EXPECT_EQ(q.check_next_chain(64), ChainFault::ReadOnly);
  q.check_invariants();
}

TEST(PackedRing, WrongTransitionsAreCaughtAsInvariantErrors) {
  PackedRing q(8);
  EXPECT_THROW(q.pop_avail(), InvariantError);
  const uint16_t id = *q.add_inbuf(chain(1));
  EXPECT_THROW(q.push_used(id, 1), InvariantError);  // the device does not hold it
  q.publish_avail();
  q.pop_avail();
  q.push_used(id, 1);
  EXPECT_THROW(q.push_used(id, 1), InvariantError);  // returned twice
  EXPECT_THROW(q.flush_used(2), InvariantError);
  EXPECT_THROW(tamper(q, id, ChainFault::Loop), InvariantError);  // not a packed fault
}

TEST(PackedRing, TheGraphCheckCountsChainsAndSlots) {
  VirtQueue q(16, true, false, true);
  q.add_inbuf(chain(3));
  q.add_inbuf(chain(5));
  q.publish_avail();
  q.pop_avail();
  const DescGraphFigures f = check_descriptor_graph(q);
  EXPECT_EQ(f.chains, 2u);
  EXPECT_EQ(f.in_use, 8u);
  EXPECT_EQ(f.longest, 5u);
  EXPECT_EQ(q.count(DescState::Device), 3u);
  EXPECT_EQ(q.count(DescState::Posted), 5u);
  EXPECT_EQ(q.count(DescState::Free), 8u);
}

}  // namespace
}  // namespace vringsim

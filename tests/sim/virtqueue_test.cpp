// VirtQueue::has_avail_bytes (QEMU's virtio_net_has_buffers question)
// answered from the running count of posted bytes: always what the walk
// of the published chains (avail_bytes_upto) answers, on both layouts,
// whatever the driver posts and the device takes or refuses, faults
// included.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "sim/core/ring_faults.hpp"
#include "sim/core/virtqueue.hpp"

namespace vringsim {
namespace {

/// has_avail_bytes against the walk, for wants around what is posted and
/// for the device limits that make a chain too long.
void expect_same_answer(const VirtQueue& q, std::mt19937_64& rng, int step) {
  const uint64_t all = q.avail_bytes_upto(UINT64_MAX);
  const uint64_t wants[] = {0, 1, all, all + 1, all > 0 ? all - 1 : 0, rng() % (all + 70000), 65561};
  for (const uint32_t limit : {0u, 1u, 2u, 5u, static_cast<uint32_t>(kMaxQueueSize)}) {
    for (const uint64_t want : wants) {
      ASSERT_EQ(q.has_avail_bytes(want, limit), q.avail_bytes_upto(want, limit) >= want)
          << "step " << step << " want " << want << " limit " << limit;
    }
  }
}

/// A random life of a ring: the driver adds chains (one buffer mostly, as
/// mergeable ones; some longer or with a zero-length buffer) and publishes
/// them in batches; the device takes the front chain, or discards it when
/// its check refuses it; the driver collects. With `faults`, chains are
/// tampered with and stray entries added (split) now and then.
void random_life(bool packed, bool faults, uint64_t seed) {
  std::mt19937_64 rng(seed);
  VirtQueue q(64, /*event_idx=*/true, /*indirect=*/(seed & 1) != 0, packed);
  for (int step = 0; step < 6000; ++step) {
    const uint32_t r = static_cast<uint32_t>(rng() % 20);
    if (r < 8) {  // the driver adds a chain
      const uint32_t n = rng() % 5 == 0 ? 1 + static_cast<uint32_t>(rng() % 4) : 1;
      std::vector<BufferSeg> segs;
      for (uint32_t k = 0; k < n; ++k)
        segs.push_back({0x1000ull * (k + 1), rng() % 30 == 0 ? 0u : 1 + static_cast<uint32_t>(rng() % 9000)});
      const auto head = q.add_inbuf(segs);
      if (head && faults && rng() % 8 == 0) {
        const ChainFault kinds[] = {ChainFault::ZeroLength, ChainFault::ReadOnly, ChainFault::BadIndirect};
        tamper(q, *head, kinds[rng() % 3]);
      }
    } else if (r < 11) {  // it publishes what it added
      q.publish_avail();
      if (faults && !packed && rng() % 10 == 0) add_stray_avail(q, static_cast<uint16_t>(rng() % 80));
    } else if (r < 16) {  // the device takes the front chain, or refuses it
      if (q.avail_pending() == 0) continue;
      const uint32_t limit = rng() % 3 == 0 ? 2 : static_cast<uint32_t>(kMaxQueueSize);
      if (q.check_next_chain(limit) == ChainFault::None) {
        q.push_used(q.pop_avail(), 1);
      } else if (const auto head = q.discard_avail()) {
        q.push_used(*head, 0);
      }
      q.flush_used(q.used_unflushed());
    } else {  // the driver collects what came back
      while (q.get_buf()) {
      }
    }
    expect_same_answer(q, rng, step);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(VirtQueueAvailBytes, TheRunningCountAnswersAsTheWalkOnASplitRing) {
  for (uint64_t seed = 1; seed <= 6; ++seed) random_life(false, false, seed);
}

TEST(VirtQueueAvailBytes, TheRunningCountAnswersAsTheWalkOnAPackedRing) {
  for (uint64_t seed = 1; seed <= 6; ++seed) random_life(true, false, seed);
}

TEST(VirtQueueAvailBytes, FaultsWrittenIntoTheRingFallBackToTheWalk) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    random_life(false, true, seed);
    random_life(true, true, seed);
  }
}

TEST(VirtQueueAvailBytes, MergeableChainsAreCountedAsPublishedAndTaken) {
  for (const bool packed : {false, true}) {
    VirtQueue q(16, true, false, packed);
    const BufferSeg seg{0x10000, 4096};
    for (int i = 0; i < 17; ++i) q.add_inbuf({&seg, 1});  // the 17th finds no room
    EXPECT_FALSE(q.has_avail_bytes(1)) << "added, not yet published";
    q.publish_avail();
    EXPECT_TRUE(q.has_avail_bytes(16 * 4096));
    EXPECT_FALSE(q.has_avail_bytes(16 * 4096 + 1));
    EXPECT_FALSE(q.has_avail_bytes(1, 0)) << "a device that accepts no descriptor";
    ChainTotals t;
    q.push_used(q.pop_avail(nullptr, nullptr, &t), 4096);
    EXPECT_EQ(t.bytes, 4096u);
    EXPECT_TRUE(q.has_avail_bytes(15 * 4096));
    EXPECT_FALSE(q.has_avail_bytes(15 * 4096 + 1));
  }
}

}  // namespace
}  // namespace vringsim

#include "sim/core/fifo.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace vringsim {
namespace {

TEST(Fifo, AgreesWithADequeThroughEmptyingAndCompaction) {
  // Random pushes and pops in bursts long enough that the queue both empties
  // (storage reused from the front) and runs 10,000 deep (the consumed front
  // dropped once it is half the storage): every front, size and the entries
  // in order must be a deque's.
  std::mt19937_64 rng(7);
  Fifo<uint64_t> fifo;
  std::deque<uint64_t> oracle;
  uint64_t next = 0;
  size_t compactions_possible = 0;
  for (int burst = 0; burst < 400; ++burst) {
    const bool grow = rng() % 2 == 0;
    const size_t n = rng() % (burst % 50 == 49 ? 12000 : 300);
    for (size_t k = 0; k < n; ++k) {
      if (grow) {
        fifo.push_back(next);
        oracle.push_back(next++);
      } else if (!oracle.empty()) {
        ASSERT_EQ(fifo.front(), oracle.front());
        fifo.pop_front();
        oracle.pop_front();
      }
    }
    ASSERT_EQ(fifo.size(), oracle.size());
    ASSERT_EQ(fifo.empty(), oracle.empty());
    if (oracle.size() > 4096) ++compactions_possible;
    ASSERT_TRUE(std::equal(fifo.begin(), fifo.end(), oracle.begin(), oracle.end())) << "burst " << burst;
    if (!oracle.empty()) {
      ASSERT_EQ(fifo.back(), oracle.back());
    }
  }
  EXPECT_GT(compactions_possible, 0u) << "the queue never ran deep enough to drop its front";
  fifo.clear();
  EXPECT_TRUE(fifo.empty());
  EXPECT_EQ(fifo.begin(), fifo.end());
  fifo.push_back(1);
  EXPECT_EQ(fifo.front(), 1u);
  EXPECT_EQ(fifo.size(), 1u);
}

}  // namespace
}  // namespace vringsim

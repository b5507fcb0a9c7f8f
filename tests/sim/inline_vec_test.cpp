// InlineVec (sim/core/inline_vec.hpp): one element inline, more on the heap.
#include "sim/core/inline_vec.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace vringsim {
namespace {

struct Block {
  uint64_t addr;
  uint64_t len;
};

TEST(InlineVec, PushingBackItsOwnElementWhileGrowingCopiesTheElement) {
  // The inline element shares its storage with the heap pointer: growing
  // from one element to the heap overwrites it, and a reference to it then
  // read the pointer's bytes. Growing on the heap frees the old block.
  InlineVec<Block> v{{0x1000, 4096}};
  ASSERT_EQ(v.size(), v.capacity());
  v.push_back(v[0]);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1].addr, 0x1000u);
  EXPECT_EQ(v[1].len, 4096u);
  ASSERT_EQ(v.size(), v.capacity());
  v.push_back(v[1]);  // 2 -> 4 on the heap: v[1] lives in the block freed
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2].addr, 0x1000u);
  EXPECT_EQ(v[2].len, 4096u);
}

TEST(InlineVec, ExtendKeepsWhatItHeldAndTruncateKeepsAPrefix) {
  InlineVec<Block> v{{0x1000, 1}};
  Block* more = v.extend(3);  // inline to the heap
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].addr, 0x1000u);
  for (uint64_t k = 0; k < 3; ++k) more[k] = {0x2000 + k, 2 + k};
  EXPECT_EQ(v[3].addr, 0x2002u);
  EXPECT_EQ(v[3].len, 4u);
  v.reserve(10);
  Block* last = v.extend(1);  // within the capacity: no move
  EXPECT_EQ(last, v.data() + 4);
  v.truncate(2);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1].addr, 0x2000u);
  v.truncate(7);  // never longer
  EXPECT_EQ(v.size(), 2u);
}

}  // namespace
}  // namespace vringsim

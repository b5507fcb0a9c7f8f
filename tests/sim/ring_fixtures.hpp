// What the ring tests post: a chain of `n` device-writable buffers.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/core/vring_types.hpp"

namespace vringsim::test_support {

inline std::vector<BufferSeg> chain(uint32_t n, uint32_t len = 4096) {
  std::vector<BufferSeg> s;
  for (uint32_t i = 0; i < n; ++i) s.push_back({0x1000ull * (i + 1), len});
  return s;
}

}  // namespace vringsim::test_support

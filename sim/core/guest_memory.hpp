// The guest's page allocator, as far as receive buffers see it: it hands out
// blocks of 2^order pages at distinct guest-physical addresses and may fail
// (memory pressure), with a probability per allocation call. Addresses are
// deterministic: freed blocks are reused last-in first-out.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/core/rng.hpp"

namespace vringsim {

/// PAGE_SIZE on x86 (the 2008 thread's page).
inline constexpr uint32_t kPageBytes = 4096;
inline constexpr unsigned kMaxPageOrder = 10;  ///< MAX_ORDER - 1 on x86 Linux

class GuestMemory {
 public:
  GuestMemory(uint64_t seed, double failure_prob) : rng_(seed, "guest-memory"), failure_prob_(failure_prob) {}

  /// alloc_pages(order): the block's address, or nothing when the allocation
  /// fails. `extra_failure_prob` adds a failure chance for this call (e.g.
  /// fragmentation making a higher-order block unavailable).
  std::optional<uint64_t> alloc_pages(unsigned order, double extra_failure_prob = 0.0);
  void free_pages(uint64_t addr, unsigned order);
  /// kmalloc'd buffer (skb data): address only, never fails in the model.
  uint64_t alloc_slab(uint32_t bytes);

  uint64_t pages_in_use() const { return pages_in_use_; }

 private:
  Rng rng_;
  double failure_prob_;
  uint64_t next_pfn_ = 0x100;  // leave page 0 unused, as a real allocator does
  uint64_t next_slab_ = 0;
  uint64_t pages_in_use_ = 0;
  std::array<std::vector<uint64_t>, kMaxPageOrder + 1> free_blocks_;
};

}  // namespace vringsim

#include "sim/core/guest_memory.hpp"

#include "sim/core/errors.hpp"

namespace vringsim {

std::optional<uint64_t> GuestMemory::alloc_pages(unsigned order, double extra_failure_prob) {
  ensure(order <= kMaxPageOrder, "page order above MAX_ORDER");
  if (rng_.chance(failure_prob_) || rng_.chance(extra_failure_prob)) return std::nullopt;
  pages_in_use_ += uint64_t{1} << order;
  auto& list = free_blocks_[order];
  if (!list.empty()) {
    const uint64_t addr = list.back();
    list.pop_back();
    return addr;
  }
  // Naturally aligned block, as the buddy allocator returns.
  const uint64_t block = uint64_t{1} << order;
  next_pfn_ = (next_pfn_ + block - 1) & ~(block - 1);
  const uint64_t addr = next_pfn_ * kPageBytes;
  next_pfn_ += block;
  return addr;
}

void GuestMemory::free_pages(uint64_t addr, unsigned order) {
  ensure(pages_in_use_ >= (uint64_t{1} << order), "freed more pages than were allocated");
  pages_in_use_ -= uint64_t{1} << order;
  free_blocks_[order].push_back(addr);
}

uint64_t GuestMemory::alloc_slab(uint32_t bytes) {
  // Slab objects live in their own address range, well above the pages.
  const uint64_t addr = (uint64_t{1} << 46) + next_slab_;
  next_slab_ += (bytes + 63) & ~uint64_t{63};
  return addr;
}

}  // namespace vringsim

// The driver's private list of order-0 pages (Linux get_a_page / give_a_page,
// give_pages): pages a frame did not use go back on it and are posted again
// before the allocator is asked. big-packets, the 2008 big-chain policies and
// page-sized mergeable buffers all keep one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/core/guest_memory.hpp"
#include "sim/core/guest_work.hpp"
#include "sim/core/policy.hpp"

namespace vringsim {

class PageList {
 public:
  /// `recycle` false: pages given back are freed to the allocator instead.
  explicit PageList(bool recycle) : recycle_(recycle) {}

  /// A page from the list, else from the allocator (nothing if that fails).
  std::optional<uint64_t> take(GuestMemory& mem, GuestWork& work) {
    if (!pages_.empty()) {
      const uint64_t a = pages_.back();
      pages_.pop_back();
      ++work.page_recycles;
      return a;
    }
    ++work.page_allocs;
    return mem.alloc_pages(0);
  }
  /// `n` pages from the list at once, as n take()s would give them (the
  /// last on the list first), into out[0..n): false, and nothing taken,
  /// when the list holds fewer.
  bool take_run(uint64_t* out, size_t n, GuestWork& work) {
    const size_t size = pages_.size();
    if (size < n) return false;
    // (By index: an empty list's data() may be null, and no pointer may be
    // formed before it.)
    for (size_t i = 0; i < n; ++i) out[i] = pages_[size - 1 - i];
    pages_.resize(size - n);
    work.page_recycles += n;
    return true;
  }
  /// A page the driver no longer needs: onto the list, or freed.
  void give(uint64_t addr, GuestMemory& mem, GuestWork& work) {
    if (!recycle_) {
      mem.free_pages(addr, 0);
      ++work.page_frees;
      return;
    }
    pages_.push_back(addr);
    ++work.page_recycles;
  }
  /// give() of the order-0 blocks [first, first + n), in order.
  void give_blocks(const MemoryBlock* first, size_t n, GuestMemory& mem, GuestWork& work) {
    if (!recycle_) {
      for (size_t i = 0; i < n; ++i) mem.free_pages(first[i].addr, 0);
      work.page_frees += n;
      return;
    }
    const size_t old = pages_.size();
    pages_.resize(old + n);
    uint64_t* out = pages_.data() + old;
    for (size_t i = 0; i < n; ++i) out[i] = first[i].addr;
    work.page_recycles += n;
  }
  size_t size() const { return pages_.size(); }

 private:
  bool recycle_;
  std::vector<uint64_t> pages_;
};

}  // namespace vringsim

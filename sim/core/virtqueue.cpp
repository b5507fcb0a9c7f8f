#include "sim/core/virtqueue.hpp"

#include <string>

#include "sim/core/errors.hpp"

namespace vringsim {

namespace {
const char* state_name(DescState s) {
  switch (s) {
    case DescState::Free: return "free";
    case DescState::Posted: return "posted";
    case DescState::Device: return "device";
    case DescState::Used: return "used";
  }
  return "?";
}
}  // namespace

VirtQueue::VirtQueue(uint32_t num)
    : num_(num),
      desc_(num),
      state_(num, DescState::Free),
      num_free_(num),
      avail_ring_(num, 0),
      used_ring_(num),
      device_head_(num, 0) {
  if (!is_valid_queue_size(num))
    throw InvariantError("virtqueue size " + std::to_string(num) + " is not a power of two in 1..32768");
  // The free list threads through desc.next, as in Linux's vring_new_virtqueue.
  for (uint32_t i = 0; i + 1 < num; ++i) desc_[i].next = static_cast<uint16_t>(i + 1);
  counts_[static_cast<int>(DescState::Free)] = num;
}

void VirtQueue::set_state(uint16_t i, DescState from, DescState to) {
  if (state_[i] != from)
    throw InvariantError("descriptor " + std::to_string(i) + " is " + state_name(state_[i]) + ", expected " +
                         state_name(from));
  state_[i] = to;
  --counts_[static_cast<int>(from)];
  ++counts_[static_cast<int>(to)];
}

std::optional<uint16_t> VirtQueue::add_inbuf(std::span<const BufferSeg> segs) {
  if (segs.empty() || segs.size() > num_free_) return std::nullopt;
  const uint16_t head = free_head_;
  uint16_t i = head;
  for (size_t k = 0; k < segs.size(); ++k) {
    set_state(i, DescState::Free, DescState::Posted);
    Descriptor& d = desc_[i];
    d.addr = segs[k].addr;
    d.len = segs[k].len;
    d.flags = kVringDescFWrite | (k + 1 < segs.size() ? kVringDescFNext : 0);
    i = d.next;  // free-list successor doubles as the chain's next entry
  }
  free_head_ = i;
  num_free_ -= static_cast<uint32_t>(segs.size());
  avail_ring_[ring_slot(avail_shadow_)] = head;
  ++avail_shadow_;
  return head;
}

uint32_t VirtQueue::publish_avail() {
  const uint32_t added = static_cast<uint16_t>(avail_shadow_ - avail_idx_);
  avail_idx_ = avail_shadow_;
  return added;
}

std::optional<UsedElem> VirtQueue::get_buf() {
  if (used_pending() == 0) return std::nullopt;
  const UsedElem e = used_ring_[ring_slot(last_used_idx_)];
  ++last_used_idx_;
  ensure(e.id < num_, "used element names descriptor " + std::to_string(e.id) + " outside the ring");
  // detach_buf(): walk the chain back onto the free list.
  uint16_t i = static_cast<uint16_t>(e.id);
  uint32_t n = 0;
  while (true) {
    set_state(i, DescState::Used, DescState::Free);
    ++n;
    ensure(n <= num_, "descriptor chain loops");
    if (!(desc_[i].flags & kVringDescFNext)) break;
    i = desc_[i].next;
  }
  desc_[i].next = free_head_;
  free_head_ = static_cast<uint16_t>(e.id);
  num_free_ += n;
  return e;
}

uint64_t VirtQueue::avail_bytes_upto(uint64_t need) const {
  uint64_t total = 0;
  for (uint16_t idx = last_avail_idx_; idx != avail_idx_ && total < need; ++idx) {
    uint16_t i = avail_ring_[ring_slot(idx)];
    uint32_t n = 0;
    while (true) {
      if (desc_[i].flags & kVringDescFWrite) total += desc_[i].len;
      if (!(desc_[i].flags & kVringDescFNext) || ++n > num_) break;
      i = desc_[i].next;
    }
  }
  return total;
}

uint64_t VirtQueue::next_chain_bytes() const {
  if (avail_pending() == 0) return 0;
  uint64_t total = 0;
  uint16_t i = avail_ring_[ring_slot(last_avail_idx_)];
  for (uint32_t n = 0; n <= num_; ++n) {
    if (desc_[i].flags & kVringDescFWrite) total += desc_[i].len;
    if (!(desc_[i].flags & kVringDescFNext)) break;
    i = desc_[i].next;
  }
  return total;
}

uint16_t VirtQueue::pop_avail(std::vector<BufferSeg>* segs) {
  ensure(avail_pending() > 0, "device popped an empty avail ring");
  const uint16_t head = avail_ring_[ring_slot(last_avail_idx_)];
  ++last_avail_idx_;
  ensure(head < num_, "avail ring names descriptor outside the ring");
  if (segs) segs->clear();
  uint16_t i = head;
  uint32_t n = 0;
  while (true) {
    set_state(i, DescState::Posted, DescState::Device);
    if (segs) segs->push_back({desc_[i].addr, desc_[i].len});
    ensure(++n <= num_, "descriptor chain loops");
    if (!(desc_[i].flags & kVringDescFNext)) break;
    i = desc_[i].next;
  }
  device_head_[head] = 1;
  return head;
}

void VirtQueue::push_used(uint16_t head, uint32_t len) {
  ensure(head < num_ && device_head_[head], "device returned a chain it does not hold");
  ensure(unflushed_ < num_, "more used elements written than ring entries");
  device_head_[head] = 0;
  used_ring_[ring_slot(static_cast<uint16_t>(used_idx_ + unflushed_))] = {head, len};
  ++unflushed_;
}

void VirtQueue::flush_used(uint32_t count) {
  ensure(count <= unflushed_, "flushing more used elements than were written");
  for (uint32_t k = 0; k < count; ++k) {
    uint16_t i = static_cast<uint16_t>(used_ring_[ring_slot(static_cast<uint16_t>(used_idx_ + k))].id);
    for (uint32_t n = 0;; ++n) {
      ensure(n < num_, "descriptor chain loops");
      set_state(i, DescState::Device, DescState::Used);
      if (!(desc_[i].flags & kVringDescFNext)) break;
      i = desc_[i].next;
    }
  }
  used_idx_ = static_cast<uint16_t>(used_idx_ + count);
  unflushed_ -= count;
}

void VirtQueue::check_invariants() const {
  std::vector<uint8_t> seen(num_, 0);
  auto mark = [&](uint16_t i, DescState expect, const char* where) {
    ensure(i < num_, std::string(where) + ": descriptor index out of range");
    ensure(!seen[i], std::string(where) + ": descriptor " + std::to_string(i) + " is in two places");
    ensure(state_[i] == expect, std::string(where) + ": descriptor " + std::to_string(i) + " is " +
                                    state_name(state_[i]) + ", expected " + state_name(expect));
    seen[i] = 1;
  };
  auto walk_chain = [&](uint16_t head, DescState expect, const char* where) {
    uint16_t i = head;
    for (uint32_t n = 0;; ++n) {
      ensure(n < num_, std::string(where) + ": descriptor chain loops");
      mark(i, expect, where);
      if (!(desc_[i].flags & kVringDescFNext)) break;
      i = desc_[i].next;
    }
  };
  // free list
  uint16_t f = free_head_;
  for (uint32_t n = 0; n < num_free_; ++n) {
    mark(f, DescState::Free, "free list");
    f = desc_[f].next;
  }
  // posted chains: avail entries not yet taken, published or not
  for (uint16_t idx = last_avail_idx_; idx != avail_shadow_; ++idx)
    walk_chain(avail_ring_[ring_slot(idx)], DescState::Posted, "avail ring");
  // chains held by the device; written-unflushed used entries are still held
  for (uint32_t h = 0; h < num_; ++h)
    if (device_head_[h]) walk_chain(static_cast<uint16_t>(h), DescState::Device, "device");
  for (uint32_t k = 0; k < unflushed_; ++k)
    walk_chain(static_cast<uint16_t>(used_ring_[ring_slot(static_cast<uint16_t>(used_idx_ + k))].id), DescState::Device,
               "used ring (unflushed)");
  // used entries not yet collected
  for (uint16_t idx = last_used_idx_; idx != used_idx_; ++idx)
    walk_chain(static_cast<uint16_t>(used_ring_[ring_slot(idx)].id), DescState::Used, "used ring");
  for (uint32_t i = 0; i < num_; ++i)
    ensure(seen[i], "descriptor " + std::to_string(i) + " is lost (in no list or ring)");
  uint32_t total = 0;
  for (uint32_t c : counts_) total += c;
  ensure(total == num_, "descriptor state counts do not add up to the ring size");
  ensure(counts_[static_cast<int>(DescState::Free)] == num_free_, "free count disagrees with the free list");
}

}  // namespace vringsim

#include "sim/core/split_ring.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>

#include "sim/core/errors.hpp"
#include "sim/core/ring_faults.hpp"

namespace vringsim {

namespace {
/// The one walk of a chain as the device reads it in shared memory, over one
/// descriptor table (the ring's, or an indirect one): the loop of QEMU's
/// virtqueue_split_pop() (hw/virtio/virtio.c), each `next` followed by
/// virtqueue_split_read_next_desc() ("Desc next is %u" at `bound` or past),
/// with the checks a device makes before it writes into a chain. A
/// descriptor seen twice is a Loop (QEMU counts steps, "Looped descriptor";
/// the model tells a loop from a chain that is only too long), more than
/// `limit` steps TooLong, a buffer the device may not write ReadOnly, an
/// empty one ZeroLength. `seen(i)` marks entry i and says whether the walk
/// had been there; an indirect descriptor goes to `indirect(d, step)`, whose
/// answer ends the walk. `bytes` receives the chain's writable bytes when it
/// is fine. (The driver's own record is walked by SplitRing::walk_chain.)
template <class Read, class Seen, class Indirect>
ChainFault walk_shared(uint32_t first, uint32_t bound, uint32_t limit, Read&& read, Seen&& seen, Indirect&& indirect,
                       uint64_t* bytes) {
  uint32_t i = first;
  uint64_t total = 0;
  for (uint32_t n = 1;; ++n) {
    if (seen(i)) return ChainFault::Loop;
    if (n > limit) return ChainFault::TooLong;
    const Descriptor& d = read(i);
    if (d.flags & kVringDescFIndirect) return indirect(d, n);
    if (!(d.flags & kVringDescFWrite)) return ChainFault::ReadOnly;
    if (d.len == 0) return ChainFault::ZeroLength;
    total += d.len;
    if (!(d.flags & kVringDescFNext)) break;
    if (d.next >= bound) return ChainFault::NextOutOfRange;
    i = d.next;
  }
  if (bytes) *bytes = total;
  return ChainFault::None;
}

}  // namespace

SplitRing::SplitRing(uint32_t num, bool event_idx, bool indirect)
    : num_(num),
      event_idx_(event_idx),
      indirect_(indirect),
      desc_(num),
      state_(num, DescState::Free),
      num_free_(num),
      avail_ring_(num, 0),
      used_ring_(num),
      device_head_(num, 0),
      avail_head_(num, 0),
      avail_pos_(num, 0),
      as_added_(num) {
  if (!is_valid_queue_size(num))
    throw InvariantError("virtqueue size " + std::to_string(num) + " is not a power of two in 1..32768");
  // The free list threads through desc.next, as in Linux's vring_new_virtqueue.
  for (uint32_t i = 0; i + 1 < num; ++i) desc_[i].next = static_cast<uint16_t>(i + 1);
  counts_[static_cast<int>(DescState::Free)] = num;
}

// Out of line: SplitRingFaults is complete only here.
SplitRing::SplitRing(SplitRing&&) noexcept = default;
SplitRing& SplitRing::operator=(SplitRing&&) noexcept = default;
SplitRing::~SplitRing() = default;

void SplitRing::set_descriptor_tracking(bool on) {
  // Every descriptor free: the states kept so far (all Free) are right
  // whichever way it is switched.
  ensure(num_free_ == num_ && !faults_, "descriptor tracking switched with descriptors in use");
  track_ = on;
}

DescState SplitRing::state(uint16_t i) const {
  ensure(track_, "a descriptor's state asked of a ring that does not track them");
  return state_[i];
}

void SplitRing::wrong_state(uint16_t i, DescState expected) const {
  throw InvariantError("descriptor " + std::to_string(i) + " is " + desc_state_name(state_[i]) + ", expected " +
                       desc_state_name(expected));
}

std::optional<uint16_t> SplitRing::add_inbuf(std::span<const BufferSeg> segs, uint32_t* ring_descs_out) {
  const bool use_table = indirect_ && segs.size() > 1;
  const size_t ring_descs = use_table ? 1 : segs.size();
  if (segs.empty() || ring_descs > num_free_) return std::nullopt;
  // Only stray entries (fault injection) can fill the avail ring before the
  // free list runs out; the driver never overruns entries the device has not read.
  if (static_cast<uint16_t>(avail_shadow_ - last_avail_idx_) >= num_) return std::nullopt;
  const uint16_t head = free_head_;
  uint16_t i = head;
  if (ring_descs_out) *ring_descs_out = static_cast<uint32_t>(ring_descs);
  // What the device's check will find, recorded as the chain is written.
  const auto count = static_cast<uint32_t>(segs.size());
  uint64_t bytes = 0;
  uint32_t first_zero = count;
  auto record = [&](size_t k) {
    bytes += segs[k].len;
    if (segs[k].len == 0 && first_zero == count) first_zero = static_cast<uint32_t>(k);
  };
  if (use_table) {
    // alloc_indirect_split(): the buffers in a table, the ring descriptor
    // pointing at it (the table's address is not guest memory the model
    // tracks: kmalloc'd, freed when the chain is detached).
    if (table_.empty()) table_.resize(num_);
    auto& t = table_[head];
    t.clear();
    for (size_t k = 0; k < segs.size(); ++k) {
      record(k);
      t.push_back({segs[k].addr, segs[k].len,
                   static_cast<uint16_t>(kVringDescFWrite | (k + 1 < segs.size() ? kVringDescFNext : 0)),
                   static_cast<uint16_t>(k + 1)});
    }
    record_added(head, bytes, count, first_zero);
    if (faults_) {  // written afresh: the device sees what the driver wrote
      faults_->table_rewritten(head);
      faults_->desc_rewritten(i);
    }
    if (track_) set_state(i, DescState::Free, DescState::Posted);
    move_count(DescState::Free, DescState::Posted, 1);
    Descriptor& d = desc_[i];
    d.addr = kIndirectTableBase + uint64_t{head} * kDescriptorBytes * kMaxQueueSize;
    d.len = static_cast<uint32_t>(segs.size() * kDescriptorBytes);
    d.flags = kVringDescFIndirect;
    free_head_ = d.next;
    --num_free_;
    avail_ring_[ring_slot(avail_shadow_)] = head;
    avail_pos_[head] = avail_shadow_;
    ++avail_shadow_;
    avail_head_[head] = 1;
    return head;
  }
  // One loop, compiled twice: with the checker's and the faults'
  // bookkeeping, and without (a 2008 chain is 20 descriptors: the tests per
  // descriptor were a third of the call).
  auto write = [&](auto watched) {
    for (size_t k = 0; k < segs.size(); ++k) {
      if constexpr (decltype(watched)::value) {
        if (track_) set_state(i, DescState::Free, DescState::Posted);
        if (faults_) faults_->desc_rewritten(i);  // written afresh: the device sees what the driver wrote
      }
      Descriptor& d = desc_[i];
      d.addr = segs[k].addr;
      d.len = segs[k].len;
      d.flags = kVringDescFWrite | (k + 1 < segs.size() ? kVringDescFNext : 0);
      i = d.next;  // free-list successor doubles as the chain's next entry
      record(k);
    }
  };
  if (track_ || faults_)
    write(std::true_type{});
  else
    write(std::false_type{});
  record_added(head, bytes, count, first_zero);
  move_count(DescState::Free, DescState::Posted, count);
  free_head_ = i;
  num_free_ -= count;
  avail_ring_[ring_slot(avail_shadow_)] = head;
  avail_pos_[head] = avail_shadow_;
  ++avail_shadow_;
  avail_head_[head] = 1;
  return head;
}

uint32_t SplitRing::publish_avail() {
  const uint32_t added = static_cast<uint16_t>(avail_shadow_ - avail_idx_);
  avail_idx_ = avail_shadow_;
  return added;
}

template <class Fn>
SplitRing::ChainEnd SplitRing::walk_chain(uint16_t head, Fn&& fn, const char* where) const {
  uint16_t i = head;
  for (uint32_t n = 0;; ++n) {
    // Every descriptor is in one chain at most: more steps than the ring has
    // descriptors means the links loop. (A loop that closes sooner brings fn
    // back to a descriptor it moved or marked, which set_state() or
    // check_invariants() refuse first.)
    if (n == num_) [[unlikely]]
      chain_loops(where);
    fn(i);
    if (!(desc_[i].flags & kVringDescFNext)) return {i, n + 1};
    i = desc_[i].next;
  }
}

void SplitRing::chain_loops(const char* where) {
  throw InvariantError(where ? std::string(where) + ": descriptor chain loops" : std::string("descriptor chain loops"));
}

std::optional<UsedElem> SplitRing::get_buf() {
  if (used_pending() == 0) return std::nullopt;
  const UsedElem e = used_ring_[ring_slot(last_used_idx_)];
  ++last_used_idx_;
  ensure(e.id < num_, [&] { return "used element names descriptor " + std::to_string(e.id) + " outside the ring"; });
  // detach_buf_split(): walk the chain back onto the free list.
  const ChainEnd end = track_ ? walk_chain(static_cast<uint16_t>(e.id),
                                           [this](uint16_t i) { set_state(i, DescState::Used, DescState::Free); })
                              : walk_chain(static_cast<uint16_t>(e.id), [](uint16_t) {});
  move_count(DescState::Used, DescState::Free, end.count);
  desc_[end.tail].next = free_head_;
  free_head_ = static_cast<uint16_t>(e.id);
  num_free_ += end.count;
  if (desc_[e.id].flags & kVringDescFIndirect) {  // detach_buf_split(): kfree(indir_desc)
    table_[e.id].clear();
    desc_[e.id].flags = 0;
  }
  return e;
}

uint64_t SplitRing::avail_bytes_upto(uint64_t need, uint32_t max_descriptors) const {
  uint64_t total = 0;
  if (!faults_ || faults_->strays == 0) {
    // Every entry not yet taken names a chain of its own, posted once: none
    // can be named twice, and there is nothing to mark.
    for (uint16_t idx = last_avail_idx_; idx != avail_idx_ && total < need; ++idx) {
      uint64_t bytes = 0;
      if (check_chain(avail_ring_[ring_slot(idx)], max_descriptors, &bytes) == ChainFault::None) total += bytes;
    }
    return total;
  }
  SplitRingFaults::Marks& counted = faults_->heads;
  counted.clear();
  for (uint16_t idx = last_avail_idx_; idx != avail_idx_ && total < need; ++idx) {
    const uint16_t head = avail_ring_[ring_slot(idx)];
    // A chain named twice (a double add) is counted once.
    if (head < num_ && counted.marked(head)) continue;
    uint64_t bytes = 0;
    if (check_chain(head, max_descriptors, &bytes) != ChainFault::None) continue;
    counted.mark(head);
    total += bytes;
  }
  return total;
}

uint64_t SplitRing::next_chain_bytes() const {
  uint64_t total = 0;
  return check_next_chain(kMaxQueueSize, &total) == ChainFault::None ? total : 0;
}

ChainFault SplitRing::check_as_added(uint16_t head, uint32_t max_descriptors, uint64_t* bytes) const {
  // The walk below, step by step, on a chain as the driver wrote it: it
  // would stop at the first zero-length buffer, or at the step past the
  // limit, whichever comes first. A table's entries are limited by
  // max_descriptors alone; the ring descriptor pointing at it is step 1.
  const Added a = added(head);
  const uint32_t ring_limit = std::min(max_descriptors, num_);
  uint32_t limit = ring_limit;
  if (desc_[head].flags & kVringDescFIndirect) {
    if (ring_limit < 1) return ChainFault::TooLong;
    limit = max_descriptors;
  }
  if (a.first_zero < a.count) return a.first_zero + 1 > limit ? ChainFault::TooLong : ChainFault::ZeroLength;
  if (a.count > limit) return ChainFault::TooLong;
  if (bytes) *bytes = a.bytes;
  return ChainFault::None;
}

ChainFault SplitRing::check_chain(uint16_t head, uint32_t max_descriptors, uint64_t* bytes) const {
  if (head >= num_) return ChainFault::HeadOutOfRange;
  if (!is_available_head(head)) return ChainFault::HeadInFlight;
  if (!faults_ || faults_->writes == 0) return check_as_added(head, max_descriptors, bytes);
  // The driver wrote into shared memory: the device reads the chain as it
  // is there, not as the driver recorded it.
  SplitRingFaults& f = *faults_;
  f.seen.clear();
  return walk_shared(
      head, num_, std::min(max_descriptors, num_),
      [&](uint32_t i) -> const Descriptor& { return f.desc(static_cast<uint16_t>(i), desc_[i]); },
      [&](uint32_t i) { return f.seen.test_and_mark(i); },
      [&](const Descriptor& d, uint32_t n) {
        // A table is a chain of its own: only a head may point to one, alone
        // (virtqueue_split_pop looks for VRING_DESC_F_INDIRECT at the head only).
        if (n > 1 || (d.flags & kVringDescFNext)) return ChainFault::BadIndirect;
        return check_table(d, head, max_descriptors, bytes);
      },
      bytes);
}

ChainFault SplitRing::check_table(const Descriptor& d, uint16_t head, uint32_t max_descriptors,
                                  uint64_t* bytes) const {
  // The device reads the table the ring descriptor points at: its length
  // must be a positive multiple of 16, and its entries form one chain.
  if (d.len == 0 || d.len % kDescriptorBytes != 0) return ChainFault::BadIndirect;
  // (Reached from check_chain's walk of shared memory: faults_ exists.)
  const std::vector<Descriptor>& t = faults_->table(head, table(head));
  const uint32_t entries = d.len / kDescriptorBytes;
  if (entries > t.size()) return ChainFault::BadIndirect;  // longer than the table the driver allocated
  std::vector<uint8_t>& seen = faults_->table_seen;
  seen.assign(entries, 0);
  // The same walk within the table: its entries are counted against
  // max_descriptors alone, and link by index into the table.
  return walk_shared(
      0, entries, max_descriptors, [&t](uint32_t i) -> const Descriptor& { return t[i]; },
      [&seen](uint32_t i) { return std::exchange(seen[i], uint8_t{1}) != 0; },
      // A table does not point to another (vhost's get_indirect: "Nested indirect descriptor").
      [](const Descriptor&, uint32_t) { return ChainFault::BadIndirect; }, bytes);
}

ChainFault SplitRing::check_next_chain(uint32_t max_descriptors, uint64_t* bytes) const {
  if (bytes) *bytes = 0;
  if (avail_pending() == 0) return ChainFault::None;
  return check_chain(avail_ring_[ring_slot(last_avail_idx_)], max_descriptors, bytes);
}

std::optional<uint16_t> SplitRing::discard_avail() {
  ensure(avail_pending() > 0, "device discarded from an empty avail ring");
  const uint16_t head = avail_ring_[ring_slot(last_avail_idx_)];
  if (!is_available_head(head)) {
    ensure(stray_avail() > 0, "a stray avail entry that was never added");
    ++last_avail_idx_;
    --faults_->strays;
    return std::nullopt;
  }
  pop_avail();  // the driver's own record of the chain says which descriptors it holds
  return head;
}

uint64_t SplitRing::chain_bytes(uint16_t head) const {
  uint64_t total = 0;
  walk_chain(head, [&](uint16_t i) { for_each_buffer(i, [&](const Descriptor& b) { total += b.len; }); });
  return total;
}

uint32_t SplitRing::chain_descriptors(uint16_t head) const {
  uint32_t n = 0;
  walk_chain(head, [&](uint16_t i) { for_each_buffer(i, [&](const Descriptor&) { ++n; }); });
  return n;
}

uint16_t SplitRing::chain_tail(uint16_t head) const {
  return walk_chain(head, [](uint16_t) {}).tail;
}

void SplitRing::record_added(uint16_t head, uint64_t bytes, uint32_t count, uint32_t first_zero) {
  if (bytes <= UINT32_MAX && count <= UINT16_MAX) [[likely]] {
    as_added_[head] = {static_cast<uint32_t>(bytes), static_cast<uint16_t>(count), static_cast<uint16_t>(first_zero)};
    return;
  }
  if (wide_.empty()) wide_.resize(num_);
  wide_[head] = {bytes, count, first_zero};
  as_added_[head] = {};
}

SplitRingFaults& SplitRing::faults() {
  // What a faulty driver writes is checked against the states of the
  // descriptors it writes into.
  ensure(track_, "fault injection on a ring that does not track its descriptors");
  if (!faults_) faults_ = std::make_unique<SplitRingFaults>(num_);
  return *faults_;
}

uint32_t SplitRing::stray_avail() const { return faults_ ? faults_->strays : 0; }

void SplitRing::write_shared_table_entry(uint16_t head, uint32_t k, const Descriptor& d) {
  SplitRingFaults& f = faults();  // first: it needs the states read next
  ensure(head < num_ && state_[head] == DescState::Posted && k < table(head).size(),
         "writing a table entry of a chain that is not posted with a table");
  f.write_table_entry(head, k, d, table_[head]);
}

void SplitRing::write_shared_desc(uint16_t i, const Descriptor& d) {
  SplitRingFaults& f = faults();  // first: it needs the states read next
  ensure(i < num_ && state_[i] == DescState::Posted, "writing a descriptor that is not posted");
  f.write_desc(i, d);
}

bool SplitRing::add_raw_avail(uint16_t head) {
  SplitRingFaults& f = faults();
  if (static_cast<uint16_t>(avail_shadow_ - last_avail_idx_) >= num_) return false;
  avail_ring_[ring_slot(avail_shadow_)] = head;
  ++avail_shadow_;
  ++f.strays;
  return true;
}

uint16_t SplitRing::pop_avail(std::vector<BufferSeg>* segs, uint32_t* ring_descs, ChainTotals* totals) {
  ensure(avail_pending() > 0, "device popped an empty avail ring");
  const uint16_t head = avail_ring_[ring_slot(last_avail_idx_)];
  ++last_avail_idx_;
  ensure(head < num_, "avail ring names descriptor outside the ring");
  if (segs) segs->clear();
  // The device's own walk (virtqueue_split_pop) reads shared memory and was
  // made by check_next_chain(); the chain it takes is the one the driver
  // recorded, walked only for its states or its buffers.
  uint32_t count = 0;
  if (track_ || segs) {
    count = walk_chain(head, [&](uint16_t i) {
              if (track_) set_state(i, DescState::Posted, DescState::Device);
              if (segs) for_each_buffer(i, [segs](const Descriptor& b) { segs->push_back({b.addr, b.len}); });
            }).count;
  } else {
    count = ring_count(head);
  }
  move_count(DescState::Posted, DescState::Device, count);
  device_head_[head] = 1;
  avail_head_[head] = 0;
  if (ring_descs) *ring_descs = count;
  // The driver's record of the chain is what add_inbuf() wrote.
  if (totals) {
    const Added a = added(head);
    *totals = {a.count, a.bytes};
  }
  return head;
}

void SplitRing::push_used(uint16_t head, uint32_t len) {
  ensure(head < num_ && device_head_[head], "device returned a chain it does not hold");
  ensure(unflushed_ < num_, "more used elements written than ring entries");
  device_head_[head] = 0;
  used_ring_[ring_slot(static_cast<uint16_t>(used_idx_ + unflushed_))] = {head, len};
  ++unflushed_;
}

void SplitRing::flush_used(uint32_t count) {
  ensure(count <= unflushed_, "flushing more used elements than were written");
  for (uint32_t k = 0; k < count; ++k) {
    const auto head = static_cast<uint16_t>(used_ring_[ring_slot(static_cast<uint16_t>(used_idx_ + k))].id);
    const uint32_t n =
        track_ ? walk_chain(head, [this](uint16_t i) { set_state(i, DescState::Device, DescState::Used); }).count
               : ring_count(head);
    move_count(DescState::Device, DescState::Used, n);
  }
  used_idx_ = static_cast<uint16_t>(used_idx_ + count);
  unflushed_ -= count;
}

void SplitRing::set_notify_on_empty(bool on) {
  ensure(!on || !event_idx_, "notify-on-empty is the 2008 flags' rule: not with RING_EVENT_IDX");
  notify_on_empty_ = on;
}

void SplitRing::check_invariants() const {
  std::vector<uint8_t> seen(num_, 0);
  uint32_t found[4] = {0, 0, 0, 0};  // descriptors found in each state's lists and rings
  auto mark = [&](uint16_t i, DescState expect, const char* where) {
    ensure(i < num_, [&] { return std::string(where) + ": descriptor index out of range"; });
    ensure(!seen[i], [&] { return std::string(where) + ": descriptor " + std::to_string(i) + " is in two places"; });
    if (track_)
      ensure(state_[i] == expect, [&] { return std::string(where) + ": descriptor " + std::to_string(i) + " is " +
                                      desc_state_name(state_[i]) + ", expected " + desc_state_name(expect); });
    seen[i] = 1;
    ++found[static_cast<int>(expect)];
  };
  auto mark_chain = [&](uint16_t head, DescState expect, const char* where) {
    walk_chain(head, [&](uint16_t i) { mark(i, expect, where); }, where);
  };
  // free list
  uint16_t f = free_head_;
  for (uint32_t n = 0; n < num_free_; ++n) {
    mark(f, DescState::Free, "free list");
    f = desc_[f].next;
  }
  // posted chains: avail entries not yet taken, published or not
  // (an entry naming no chain of its own is a stray a faulty driver added)
  uint32_t strays = 0;
  for (uint16_t idx = last_avail_idx_; idx != avail_shadow_; ++idx) {
    const uint16_t head = avail_ring_[ring_slot(idx)];
    if (head < num_ && avail_head_[head] && !seen[head])
      mark_chain(head, DescState::Posted, "avail ring");
    else
      ++strays;
  }
  ensure(strays == stray_avail(), [&] {
    return "avail ring holds " + std::to_string(strays) + " entries naming no posted chain, " +
           std::to_string(stray_avail()) + " were added as strays";
  });
  // chains held by the device; written-unflushed used entries are still held
  for (uint32_t h = 0; h < num_; ++h)
    if (device_head_[h]) mark_chain(static_cast<uint16_t>(h), DescState::Device, "device");
  for (uint32_t k = 0; k < unflushed_; ++k)
    mark_chain(static_cast<uint16_t>(used_ring_[ring_slot(static_cast<uint16_t>(used_idx_ + k))].id), DescState::Device,
               "used ring (unflushed)");
  // used entries not yet collected
  for (uint16_t idx = last_used_idx_; idx != used_idx_; ++idx)
    mark_chain(static_cast<uint16_t>(used_ring_[ring_slot(idx)].id), DescState::Used, "used ring");
  for (uint32_t i = 0; i < num_; ++i)
    ensure(seen[i], [&] { return "descriptor " + std::to_string(i) + " is lost (in no list or ring)"; });
  uint32_t total = 0;
  for (uint32_t c : counts_) total += c;
  ensure(total == num_, "descriptor state counts do not add up to the ring size");
  ensure(counts_[static_cast<int>(DescState::Free)] == num_free_, "free count disagrees with the free list");
  for (int st = 0; st < 4; ++st)
    ensure(found[st] == counts_[st], [&] {
      return std::to_string(counts_[st]) + " descriptors are " + desc_state_name(static_cast<DescState>(st)) +
             " by the count, " + std::to_string(found[st]) + " in the lists and rings";
    });
}

}  // namespace vringsim

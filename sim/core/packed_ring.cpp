#include "sim/core/packed_ring.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "sim/core/errors.hpp"

namespace vringsim {

namespace {
uint16_t avail_bits(bool wrap) { return wrap ? kPackedDescFAvail : kPackedDescFUsed; }
uint16_t used_bits(bool wrap) { return wrap ? (kPackedDescFAvail | kPackedDescFUsed) : 0; }
constexpr uint16_t kWrapBits = kPackedDescFAvail | kPackedDescFUsed;

}  // namespace

PackedRing::PackedRing(uint32_t num, bool event_idx, bool indirect)
    : num_(num),
      event_idx_(event_idx),
      indirect_(indirect),
      ring_(num),
      state_(num, DescState::Free),
      pos_(num, 0),
      slots_(num, 0),
      segs_(num),
      num_free_(num),
      written_(num, 0) {
  if (!is_valid_packed_size(num))
    throw InvariantError("packed virtqueue size " + std::to_string(num) + " is not in 1..32768");
  // Buffer IDs handed out from 0 up, as Linux's free_head list starts.
  free_ids_.reserve(num);
  for (uint32_t i = num; i-- > 0;) free_ids_.push_back(static_cast<uint16_t>(i));
  counts_[static_cast<int>(DescState::Free)] = num;
}

void PackedRing::set_state(uint16_t id, DescState from, DescState to) {
  if (state_[id] != from)
    throw InvariantError(fmt::format("packed ring: buffer id {} is {}, expected {}", id, desc_state_name(state_[id]),
                                     desc_state_name(from)));
  state_[id] = to;
  counts_[static_cast<int>(from)] -= slots_[id];
  counts_[static_cast<int>(to)] += slots_[id];
}

bool PackedRing::is_avail(uint64_t pos) const {
  return (ring_[slot_of(pos)].flags & kWrapBits) == avail_bits(wrap_of(pos));
}

bool PackedRing::is_used(uint64_t pos) const {
  return (ring_[slot_of(pos)].flags & kWrapBits) == used_bits(wrap_of(pos));
}

int64_t PackedRing::event_position(uint16_t off_wrap, uint64_t now) const {
  const uint64_t off = off_wrap & static_cast<uint16_t>(~(1u << kPackedEventWrapBit));
  const bool wrap = (off_wrap >> kPackedEventWrapBit) != 0;
  const int64_t lap = static_cast<int64_t>(now / num_);
  return (wrap_of(now) == wrap ? lap : lap - 1) * static_cast<int64_t>(num_) + static_cast<int64_t>(off);
}

std::optional<uint16_t> PackedRing::add_inbuf(std::span<const BufferSeg> segs, uint32_t* ring_descs) {
  const bool use_table = indirect_ && segs.size() > 1;
  const uint32_t n = use_table ? 1 : static_cast<uint32_t>(segs.size());
  if (segs.empty() || n > num_free_) return std::nullopt;
  ensure(!free_ids_.empty(), "packed ring: a free slot but no free buffer id");
  const uint16_t id = free_ids_.back();
  free_ids_.pop_back();
  const uint64_t head = added_;
  pos_[id] = head;
  slots_[id] = n;
  if (ring_descs) *ring_descs = n;
  segs_[id].assign(segs.data(), segs.data() + segs.size());
  if (!table_.empty()) table_[id].clear();
  if (use_table) {
    if (table_.empty()) {
      table_.resize(num_);
      shared_table_.resize(num_);
    }
    // alloc_indirect_packed(): WRITE is the only flag a table entry has.
    for (const BufferSeg& s : segs) table_[id].push_back({s.addr, s.len, kVringDescFWrite, 0});
    shared_table_[id] = table_[id];
    ring_[slot_of(head)] = {kIndirectTableBase + uint64_t{id} * kDescriptorBytes * kMaxQueueSize,
                            static_cast<uint32_t>(segs.size() * kDescriptorBytes), id, kVringDescFIndirect};
  } else {
    for (uint32_t k = 0; k < n; ++k) {
      const uint64_t pos = head + k;
      const uint16_t flags = static_cast<uint16_t>(kVringDescFWrite | (k + 1 < n ? kVringDescFNext : 0));
      ring_[slot_of(pos)] = {segs[k].addr, segs[k].len, id, static_cast<uint16_t>(flags | avail_bits(wrap_of(pos)))};
    }
  }
  // The head stays as a used descriptor of the last lap until published.
  PackedDesc& h = ring_[slot_of(head)];
  h.flags = static_cast<uint16_t>((h.flags & ~kWrapBits) | used_bits(!wrap_of(head)));
  set_state(id, DescState::Free, DescState::Posted);
  num_free_ -= n;
  added_ += n;
  posted_.push_back(id);
  return id;
}

uint32_t PackedRing::publish_avail() {
  // The heads in ring order, each the last write of its chain.
  const size_t first = avail_chains_;
  for (size_t k = first; k < posted_.size(); ++k) {
    const uint16_t id = posted_[k];
    PackedDesc& h = ring_[slot_of(pos_[id])];
    h.flags = static_cast<uint16_t>((h.flags & ~kWrapBits) | avail_bits(wrap_of(pos_[id])));
  }
  const uint32_t chains = static_cast<uint32_t>(posted_.size() - first);
  avail_chains_ += chains;
  last_published_slots_ = static_cast<uint32_t>(added_ - published_);
  published_ = added_;
  return chains;
}

bool PackedRing::kick_needed(uint32_t) const {
  if (device_event_.flags == kPackedEventDesc) {
    const int64_t now = static_cast<int64_t>(published_);
    const int64_t ev = event_position(device_event_.off_wrap, published_);
    return ev >= now - static_cast<int64_t>(last_published_slots_) && ev < now;
  }
  return device_event_.flags != kPackedEventDisable;
}

std::optional<UsedElem> PackedRing::get_buf() {
  if (used_visible_ == 0) return std::nullopt;
  ensure(is_used(collected_),
         [&] { return fmt::format("packed ring: slot {} holds no used descriptor", slot_of(collected_)); });
  const PackedDesc& d = ring_[slot_of(collected_)];
  // virtqueue_get_buf_ctx_packed(): "id %u out of range", "id %u is not a head"
  ensure(d.id < num_, [&] { return fmt::format("packed ring: used id {} out of range", d.id); });
  ensure(state_[d.id] == DescState::Used, [&] { return fmt::format("packed ring: used id {} is not a head", d.id); });
  const uint16_t id = d.id;
  const UsedElem e{id, d.len};
  set_state(id, DescState::Used, DescState::Free);
  collected_ += slots_[id];
  num_free_ += slots_[id];
  slots_[id] = 0;
  segs_[id].clear();
  if (!table_.empty()) table_[id].clear();
  free_ids_.push_back(id);
  --used_visible_;
  return e;
}

bool PackedRing::enable_cb() {
  if (event_idx_)
    driver_event_.off_wrap =
        static_cast<uint16_t>(slot_of(collected_) | (wrap_of(collected_) ? 1u << kPackedEventWrapBit : 0u));
  if (driver_flags_shadow_ == kPackedEventDisable) {
    driver_flags_shadow_ = event_idx_ ? kPackedEventDesc : kPackedEventEnable;
    driver_event_.flags = driver_flags_shadow_;
  }
  event_triggered_ = false;
  return used_pending() == 0;
}

ChainFault PackedRing::check_table(const PackedDesc& d, uint32_t max_descriptors, uint64_t* bytes) const {
  // The table holds len / 16 entries in order; WRITE is their only flag
  // (others are reserved and ignored: virtio 1.x 2.8.7).
  if (d.len == 0 || d.len % kDescriptorBytes != 0) return ChainFault::BadIndirect;
  ensure(d.id < num_, "packed ring: an indirect descriptor names no buffer id");
  const std::vector<Descriptor>& t = shared_table(d.id);
  const uint32_t entries = d.len / kDescriptorBytes;
  if (entries > t.size()) return ChainFault::BadIndirect;  // longer than the table the driver allocated
  if (entries > max_descriptors) return ChainFault::TooLong;
  uint64_t total = 0;
  for (uint32_t k = 0; k < entries; ++k) {
    if (!(t[k].flags & kVringDescFWrite)) return ChainFault::ReadOnly;
    if (t[k].len == 0) return ChainFault::ZeroLength;
    total += t[k].len;
  }
  if (bytes) *bytes = total;
  return ChainFault::None;
}

ChainFault PackedRing::check_chain_at(uint64_t pos, uint32_t max_descriptors, uint64_t* bytes,
                                      uint32_t* slots) const {
  const uint32_t limit = std::min(max_descriptors, num_);
  uint64_t total = 0;
  ChainFault fault = ChainFault::None;
  if (slots) *slots = 0;
  for (uint32_t n = 1;; ++n) {
    const uint64_t p = pos + n - 1;
    // Every descriptor of a chain is made available (2.8.6: flags "must be
    // set correctly in all descriptors in the list"); a chain that runs on
    // into one that is not has no end the device can trust.
    if (n > num_ || !is_avail(p)) return fault != ChainFault::None ? fault : ChainFault::NextOutOfRange;
    const PackedDesc& d = ring_[slot_of(p)];
    if (fault == ChainFault::None) {
      if (n > limit) {
        fault = ChainFault::TooLong;
      } else if (d.flags & kVringDescFIndirect) {
        // A table is a list of its own: only alone in the ring.
        fault = (n > 1 || (d.flags & kVringDescFNext)) ? ChainFault::BadIndirect
                                                        : check_table(d, max_descriptors, &total);
      } else if (!(d.flags & kVringDescFWrite)) {
        fault = ChainFault::ReadOnly;
      } else if (d.len == 0) {
        fault = ChainFault::ZeroLength;
      } else {
        total += d.len;
      }
    }
    if (!(d.flags & kVringDescFNext)) {
      if (slots) *slots = n;
      break;
    }
  }
  if (fault == ChainFault::None && bytes) *bytes = total;
  return fault;
}

uint64_t PackedRing::avail_bytes_upto(uint64_t need, uint32_t max_descriptors) const {
  uint64_t total = 0;
  uint64_t pos = taken_;
  for (uint32_t k = 0; k < avail_chains_ && total < need; ++k) {
    uint64_t b = 0;
    uint32_t slots = 0;
    const ChainFault f = check_chain_at(pos, max_descriptors, &b, &slots);
    if (slots == 0) break;  // no end to skip to
    if (f == ChainFault::None) total += b;
    pos += slots;
  }
  return total;
}

uint64_t PackedRing::next_chain_bytes() const {
  uint64_t total = 0;
  return check_next_chain(kMaxQueueSize, &total) == ChainFault::None ? total : 0;
}

ChainFault PackedRing::check_next_chain(uint32_t max_descriptors, uint64_t* bytes) const {
  if (bytes) *bytes = 0;
  if (avail_chains_ == 0) return ChainFault::None;
  return check_chain_at(taken_, max_descriptors, bytes, nullptr);
}

uint16_t PackedRing::take(uint64_t pos, uint16_t id) {
  ensure(pos == pos_[id], [&] { return fmt::format("packed ring: buffer id {} is not at the device's position", id); });
  ensure(is_avail(pos),
         [&] { return fmt::format("packed ring: the device took slot {}, not available", slot_of(pos)); });
  const uint64_t last = pos + slots_[id] - 1;
  ensure(ring_[slot_of(last)].id == id, [&] {
    return fmt::format("packed ring: the chain's last descriptor names id {}, not {}", ring_[slot_of(last)].id, id);
  });
  posted_.pop_front();
  --avail_chains_;
  taken_ += slots_[id];
  set_state(id, DescState::Posted, DescState::Device);
  return id;
}

uint16_t PackedRing::pop_avail(std::vector<BufferSeg>* segs, uint32_t* ring_descs, ChainTotals* totals) {
  ensure(avail_chains_ > 0, "device popped an empty packed ring");
  const uint16_t id = take(taken_, posted_.front());
  if (segs) segs->assign(segs_[id].begin(), segs_[id].end());  // the device maps what the driver posted
  if (ring_descs) *ring_descs = ring_descriptors(id);
  if (totals) {
    *totals = {static_cast<uint32_t>(segs_[id].size()), 0};
    for (const BufferSeg& s : segs_[id]) totals->bytes += s.len;
  }
  return id;
}

std::optional<uint16_t> PackedRing::discard_avail() {
  ensure(avail_chains_ > 0, "device discarded from an empty packed ring");
  return take(taken_, posted_.front());
}

void PackedRing::push_used(uint16_t id, uint32_t len) {
  ensure(id < num_ && state_[id] == DescState::Device && !written_[id], "device returned a chain it does not hold");
  written_[id] = 1;
  unflushed_.push_back({used_, id, len});
  used_ += slots_[id];
  ensure(used_ <= taken_, "packed ring: used descriptors overtake the available ones");
}

void PackedRing::flush_used(uint32_t count) {
  ensure(count <= unflushed_.size(), "flushing more used descriptors than were written");
  // A frame's first buffer is marked used last (2.8.? multi-buffer
  // requests); the model writes them at one instant.
  for (uint32_t k = 0; k < count; ++k) {
    const Pending p = unflushed_.front();
    unflushed_.pop_front();
    PackedDesc& d = ring_[slot_of(p.pos)];
    d.id = p.id;
    d.len = p.len;
    d.flags = static_cast<uint16_t>(used_bits(wrap_of(p.pos)) | (p.len ? kVringDescFWrite : 0));
    written_[p.id] = 0;
    set_state(p.id, DescState::Device, DescState::Used);
    flushed_ = p.pos + slots_[p.id];
    ++used_visible_;
  }
}

bool PackedRing::should_interrupt() {
  const uint64_t now = flushed_;
  const uint64_t old = signalled_;
  const bool first = !signalled_valid_;
  signalled_ = now;
  signalled_valid_ = true;
  if (driver_event_.flags == kPackedEventDisable) return false;
  if (driver_event_.flags != kPackedEventDesc) return true;
  const int64_t ev = event_position(driver_event_.off_wrap, now);
  return first || (ev >= static_cast<int64_t>(old) && ev < static_cast<int64_t>(now));
}

void PackedRing::set_notification(bool enable) {
  if (!enable) {
    device_event_.flags = kPackedEventDisable;
  } else if (event_idx_) {
    // The first slot not available yet: kick when the driver fills it.
    device_event_.off_wrap =
        static_cast<uint16_t>(slot_of(published_) | (wrap_of(published_) ? 1u << kPackedEventWrapBit : 0u));
    device_event_.flags = kPackedEventDesc;
  } else {
    device_event_.flags = kPackedEventEnable;
  }
}

const PackedDesc& PackedRing::chain_desc(uint16_t id, uint32_t k) const {
  ensure(id < num_ && state_[id] == DescState::Posted && k < slots_[id], "packed ring: no such posted descriptor");
  return ring_[slot_of(pos_[id] + k)];
}

void PackedRing::write_chain_desc(uint16_t id, uint32_t k, const PackedDesc& d) {
  ensure(id < num_ && state_[id] == DescState::Posted && k < slots_[id], "writing a descriptor that is not posted");
  PackedDesc& cur = ring_[slot_of(pos_[id] + k)];
  cur = {d.addr, d.len, d.id, static_cast<uint16_t>((d.flags & ~kWrapBits) | (cur.flags & kWrapBits))};
}

void PackedRing::write_shared_table_entry(uint16_t id, uint32_t k, const Descriptor& d) {
  ensure(id < num_ && state_[id] == DescState::Posted && k < shared_table(id).size() && !table(id).empty(),
         "writing a table entry of a chain that is not posted with a table");
  shared_table_[id][k] = d;
}

uint64_t PackedRing::chain_bytes(uint16_t id) const {
  uint64_t total = 0;
  for (const BufferSeg& s : segs_[id]) total += s.len;
  return total;
}

void PackedRing::check_invariants() const {
  auto fail = [](const std::string& what) { throw InvariantError("packed ring: " + what); };
  // Positions: collected <= flushed <= used <= taken <= published <= added.
  if (!(collected_ <= flushed_ && flushed_ <= used_ && used_ <= taken_ && taken_ <= published_ &&
        published_ <= added_))
    fail(fmt::format("positions out of order: collected {} flushed {} used {} taken {} published {} added {}",
                     collected_, flushed_, used_, taken_, published_, added_));
  if (added_ - collected_ != num_ - num_free_)
    fail(fmt::format("{} slots between collected and added, {} not free", added_ - collected_, num_ - num_free_));
  // Every id in exactly one state; slots by state.
  uint64_t slots[4] = {0, 0, 0, 0};
  uint32_t ids[4] = {0, 0, 0, 0};
  for (uint32_t i = 0; i < num_; ++i) {
    const int s = static_cast<int>(state_[i]);
    ++ids[s];
    slots[s] += slots_[i];
    if (state_[i] == DescState::Free && slots_[i] != 0) fail(fmt::format("free id {} holds slots", i));
    if (state_[i] != DescState::Free && slots_[i] == 0) fail(fmt::format("id {} in use holds no slot", i));
  }
  std::vector<uint8_t> seen(num_, 0);
  for (const uint16_t id : free_ids_) {
    if (id >= num_ || seen[id] || state_[id] != DescState::Free) fail(fmt::format("free id list holds {} wrongly", id));
    seen[id] = 1;
  }
  if (free_ids_.size() != ids[0]) fail("free id list and free ids disagree");
  if (counts_[0] != num_free_) fail("free slot count disagrees with the free count");
  for (int s = 1; s < 4; ++s)
    if (slots[s] != counts_[s]) fail(fmt::format("slot counts disagree for {}", desc_state_name(static_cast<DescState>(s))));
  if (uint64_t{counts_[0]} + counts_[1] + counts_[2] + counts_[3] != num_) fail("slot counts do not add up to the size");
  // Posted chains: consecutive from the device's position, published ones first.
  uint64_t pos = taken_;
  for (size_t k = 0; k < posted_.size(); ++k) {
    const uint16_t id = posted_[k];
    if (state_[id] != DescState::Posted) fail(fmt::format("id {} on the posted list is {}", id, desc_state_name(state_[id])));
    if (pos_[id] != pos) fail(fmt::format("posted id {} is not where the previous chain ends", id));
    const bool published = k < avail_chains_;
    if (published != (pos < published_)) fail(fmt::format("posted id {} published state disagrees", id));
    if (is_avail(pos) != published) fail(fmt::format("the head of id {} is {}available", id, published ? "not " : ""));
    for (uint32_t j = 1; j < slots_[id]; ++j)
      if (!is_avail(pos + j)) fail(fmt::format("descriptor {} of id {} is not available", j, id));
    if (ring_[slot_of(pos + slots_[id] - 1)].id != id) fail(fmt::format("the last descriptor of id {} names another", id));
    pos += slots_[id];
  }
  if (pos != added_) fail("the posted chains do not end where the driver adds");
  if (posted_.size() != ids[1]) fail("posted list and posted ids disagree");
  // Used descriptors the driver has not collected, then unflushed ones.
  pos = collected_;
  uint32_t used_ids = 0;
  for (uint32_t k = 0; k < used_visible_; ++k) {
    if (!is_used(pos)) fail(fmt::format("no used descriptor at slot {}", slot_of(pos)));
    const uint16_t id = ring_[slot_of(pos)].id;
    if (id >= num_ || state_[id] != DescState::Used) fail(fmt::format("used descriptor names id {}, not used", id));
    ++used_ids;
    pos += slots_[id];
  }
  if (pos != flushed_) fail("visible used descriptors do not end at the flushed position");
  if (used_ids != ids[3]) fail("used ids and visible used descriptors disagree");
  for (const Pending& p : unflushed_) {
    if (p.pos != pos || state_[p.id] != DescState::Device || !written_[p.id]) fail("unflushed used descriptors out of order");
    pos += slots_[p.id];
  }
  if (pos != used_) fail("written used descriptors do not end at the device's used position");
  // Slots the device has read and the driver not freed: device-held and used chains.
  if (taken_ - collected_ != slots[2] + slots[3]) fail("slots taken and not collected disagree with the chains held");
}

}  // namespace vringsim

// The receive virtqueue the device and the driver share, in the layout the
// negotiated features choose: the split ring (sim/core/split_ring.hpp) or,
// with RING_PACKED, the packed ring (sim/core/packed_ring.hpp). The actors
// see this one interface; what differs between the layouts (memory, how a
// chain is made available and returned, how notifications are suppressed)
// stays inside the two rings. Plain C++: no SimGrid, no policy.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "sim/core/errors.hpp"
#include "sim/core/packed_ring.hpp"
#include "sim/core/split_ring.hpp"

namespace vringsim {

class VirtQueue {
  // Calls f on the ring in use (a branch, no virtual call: the actors call
  // the ring on every packet).
  template <class F>
  decltype(auto) on(F&& f) {
    if (auto* s = std::get_if<SplitRing>(&ring_)) return f(*s);
    return f(*std::get_if<PackedRing>(&ring_));
  }
  template <class F>
  decltype(auto) on(F&& f) const {
    if (const auto* s = std::get_if<SplitRing>(&ring_)) return f(*s);
    return f(*std::get_if<PackedRing>(&ring_));
  }

 public:
  /// `packed`: VIRTIO_F_RING_PACKED negotiated; else a split ring.
  VirtQueue(uint32_t num, bool event_idx, bool indirect, bool packed)
      : ring_(packed ? Ring(std::in_place_index<1>, num, event_idx, indirect)
                     : Ring(std::in_place_index<0>, num, event_idx, indirect)) {}

  bool packed() const { return ring_.index() == 1; }
  /// The ring itself, to write to: what is done through it (fault injection
  /// writing shared memory, stray avail entries) bypasses this interface,
  /// so the running byte count (has_avail_bytes) is no longer trusted.
  SplitRing* split_ring() {
    avail_.trusted = false;
    return std::get_if<SplitRing>(&ring_);
  }
  const SplitRing* split_ring() const { return std::get_if<SplitRing>(&ring_); }
  PackedRing* packed_ring() {
    avail_.trusted = false;
    return std::get_if<PackedRing>(&ring_);
  }
  const PackedRing* packed_ring() const { return std::get_if<PackedRing>(&ring_); }

  uint32_t size() const { return on([](const auto& r) { return r.size(); }); }
  bool event_idx() const { return on([](const auto& r) { return r.event_idx(); }); }
  bool indirect() const { return on([](const auto& r) { return r.indirect(); }); }
  uint64_t bytes() const { return on([](const auto& r) { return r.bytes(); }); }

  // driver side
  uint32_t num_free() const { return on([](const auto& r) { return r.num_free(); }); }
  /// Posts a chain; `ring_descs`, if given, gets ring_descriptors() of it.
  std::optional<uint16_t> add_inbuf(std::span<const BufferSeg> segs, uint32_t* ring_descs = nullptr) {
    const auto head = on([segs, ring_descs](auto& r) { return r.add_inbuf(segs, ring_descs); });
    if (head) avail_.added(segs);
    return head;
  }
  uint32_t publish_avail() {
    avail_.published();
    return on([](auto& r) { return r.publish_avail(); });
  }
  bool kick_needed(uint32_t published) const { return on([published](const auto& r) { return r.kick_needed(published); }); }
  uint32_t used_pending() const { return on([](const auto& r) { return r.used_pending(); }); }
  std::optional<UsedElem> get_buf() { return on([](auto& r) { return r.get_buf(); }); }
  void disable_cb() { on([](auto& r) { r.disable_cb(); }); }
  bool enable_cb() { return on([](auto& r) { return r.enable_cb(); }); }
  void interrupt_taken() { on([](auto& r) { r.interrupt_taken(); }); }

  // device side
  uint32_t avail_pending() const { return on([](const auto& r) { return r.avail_pending(); }); }
  uint64_t avail_bytes_upto(uint64_t need, uint32_t max_descriptors = kMaxQueueSize) const {
    return on([=](const auto& r) { return r.avail_bytes_upto(need, max_descriptors); });
  }
  /// avail_bytes_upto(want, max_descriptors) >= want, the question QEMU's
  /// virtio_net_has_buffers() asks of the published chains
  /// (virtqueue_avail_bytes / virtqueue_get_avail_bytes), without walking
  /// them: from the running count of their bytes while every one of them is
  /// a single buffer of nonzero length the device accepts as the driver
  /// wrote it (a mergeable ring always); else the walk.
  bool has_avail_bytes(uint64_t want, uint32_t max_descriptors = kMaxQueueSize) const {
    if (avail_.trusted && avail_.published_odd == 0 && max_descriptors >= 1) return avail_.published_bytes >= want;
    return avail_bytes_upto(want, max_descriptors) >= want;
  }
  uint64_t next_chain_bytes() const { return on([](const auto& r) { return r.next_chain_bytes(); }); }
  /// Takes the next chain; `ring_descs`, if given, gets ring_descriptors() of it (from the same walk);
  /// `totals`, its buffers counted and summed.
  uint16_t pop_avail(std::vector<BufferSeg>* segs = nullptr, uint32_t* ring_descs = nullptr,
                     ChainTotals* totals = nullptr) {
    ChainTotals own;
    ChainTotals* t = totals ? totals : &own;
    const uint16_t head = on([=](auto& r) { return r.pop_avail(segs, ring_descs, t); });
    avail_.taken(t->buffers, t->bytes);
    return head;
  }
  void push_used(uint16_t head, uint32_t len) { on([=](auto& r) { r.push_used(head, len); }); }
  void flush_used(uint32_t count) { on([count](auto& r) { r.flush_used(count); }); }
  uint32_t used_unflushed() const { return on([](const auto& r) { return r.used_unflushed(); }); }
  bool should_interrupt() { return on([](auto& r) { return r.should_interrupt(); }); }
  /// The 2008 QEMU's notify-on-empty rule (host.notify_on_empty,
  /// SplitRing::set_notify_on_empty): a split ring's only, as QEMU's
  /// virtio_packed_should_notify has no such rule.
  void set_notify_on_empty(bool enable) {
    SplitRing* s = std::get_if<SplitRing>(&ring_);
    ensure(s || !enable, "notify-on-empty is a split ring's rule: not with RING_PACKED");
    if (s) s->set_notify_on_empty(enable);
  }
  /// The device turns kicks on or off (vhost_enable_notify /
  /// vhost_disable_notify, QEMU's virtio_queue_set_notification).
  void set_notification(bool enable) { on([enable](auto& r) { r.set_notification(enable); }); }
  bool kick_possible() const { return on([](const auto& r) { return r.kick_possible(); }); }
  ChainFault check_next_chain(uint32_t max_descriptors, uint64_t* bytes = nullptr) const {
    return on([=](const auto& r) { return r.check_next_chain(max_descriptors, bytes); });
  }
  std::optional<uint16_t> discard_avail() {
    const auto head = on([](auto& r) { return r.discard_avail(); });
    // Only a chain the device refuses is discarded: rare, so its record is walked.
    if (head) avail_.taken(chain_descriptors(*head), chain_bytes(*head));
    return head;
  }

  // a chain by its head (split) or Buffer ID (packed), by the driver's record
  uint64_t chain_bytes(uint16_t head) const { return on([head](const auto& r) { return r.chain_bytes(head); }); }
  uint32_t chain_descriptors(uint16_t head) const {
    return on([head](const auto& r) { return r.chain_descriptors(head); });
  }
  uint32_t ring_descriptors(uint16_t head) const { return on([head](const auto& r) { return r.ring_descriptors(head); }); }
  uint64_t table_bytes(uint16_t head) const { return on([head](const auto& r) { return r.table_bytes(head); }); }

  /// Descriptors (split) or ring slots (packed) in state `s`.
  uint32_t count(DescState s) const { return on([s](const auto& r) { return r.count(s); }); }
  void check_invariants() const { on([](const auto& r) { r.check_invariants(); }); }
  /// A split ring keeps each descriptor's state only when asked
  /// (SplitRing::set_descriptor_tracking); a packed ring always keeps its
  /// Buffer IDs' (one per chain, no walk to spare).
  void set_descriptor_tracking(bool on) {
    if (SplitRing* s = std::get_if<SplitRing>(&ring_)) s->set_descriptor_tracking(on);
  }

 private:
  using Ring = std::variant<SplitRing, PackedRing>;
  Ring ring_;

  /// The bytes of the chains added and not yet taken, kept as they are
  /// added, published and taken (for has_avail_bytes). A chain is "odd"
  /// unless it is one buffer of nonzero length (every mergeable chain):
  /// the device's check may refuse it (a zero-length buffer, more buffers
  /// than it accepts), so while one is published the count does not
  /// answer, and odd chains are only counted, not summed. Writes made
  /// through split_ring() or packed_ring() (faults) end its use for good.
  struct AvailBytes {
    uint64_t added_bytes = 0;      ///< of the one-buffer chains added, not yet published
    uint64_t published_bytes = 0;  ///< of the one-buffer chains published, not yet taken
    uint32_t added_odd = 0;
    uint32_t published_odd = 0;
    bool trusted = true;
    void added(std::span<const BufferSeg> segs) {
      if (segs.size() == 1 && segs.front().len > 0) [[likely]]
        added_bytes += segs.front().len;
      else
        ++added_odd;
    }
    void published() {
      published_bytes += added_bytes;
      published_odd += added_odd;
      added_bytes = 0;
      added_odd = 0;
    }
    void taken(uint32_t buffers, uint64_t bytes) {
      if (buffers == 1 && bytes > 0) [[likely]]
        published_bytes -= bytes;
      else
        --published_odd;
    }
  };
  AvailBytes avail_;
};

}  // namespace vringsim

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
  SplitRing* split_ring() { return std::get_if<SplitRing>(&ring_); }
  const SplitRing* split_ring() const { return std::get_if<SplitRing>(&ring_); }
  PackedRing* packed_ring() { return std::get_if<PackedRing>(&ring_); }
  const PackedRing* packed_ring() const { return std::get_if<PackedRing>(&ring_); }

  uint32_t size() const { return on([](const auto& r) { return r.size(); }); }
  bool event_idx() const { return on([](const auto& r) { return r.event_idx(); }); }
  bool indirect() const { return on([](const auto& r) { return r.indirect(); }); }
  uint64_t bytes() const { return on([](const auto& r) { return r.bytes(); }); }

  // driver side
  uint32_t num_free() const { return on([](const auto& r) { return r.num_free(); }); }
  /// Posts a chain; `ring_descs`, if given, gets ring_descriptors() of it.
  std::optional<uint16_t> add_inbuf(std::span<const BufferSeg> segs, uint32_t* ring_descs = nullptr) {
    return on([segs, ring_descs](auto& r) { return r.add_inbuf(segs, ring_descs); });
  }
  uint32_t publish_avail() { return on([](auto& r) { return r.publish_avail(); }); }
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
  uint64_t next_chain_bytes() const { return on([](const auto& r) { return r.next_chain_bytes(); }); }
  /// Takes the next chain; `ring_descs`, if given, gets ring_descriptors() of it (from the same walk);
  /// `totals`, its buffers counted and summed.
  uint16_t pop_avail(std::vector<BufferSeg>* segs = nullptr, uint32_t* ring_descs = nullptr,
                     ChainTotals* totals = nullptr) {
    return on([=](auto& r) { return r.pop_avail(segs, ring_descs, totals); });
  }
  void push_used(uint16_t head, uint32_t len) { on([=](auto& r) { r.push_used(head, len); }); }
  void flush_used(uint32_t count) { on([count](auto& r) { r.flush_used(count); }); }
  uint32_t used_unflushed() const { return on([](const auto& r) { return r.used_unflushed(); }); }
  bool should_interrupt() { return on([](auto& r) { return r.should_interrupt(); }); }
  /// The 2008 QEMU's notify-on-empty rule (host.notify_on_empty,
  /// SplitRing::set_notify_on_empty): a split ring's only, as QEMU's
  /// virtio_packed_should_notify has no such rule.
  void set_notify_on_empty(bool enable) {
    SplitRing* s = split_ring();
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
  std::optional<uint16_t> discard_avail() { return on([](auto& r) { return r.discard_avail(); }); }

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

 private:
  using Ring = std::variant<SplitRing, PackedRing>;
  Ring ring_;
};

}  // namespace vringsim

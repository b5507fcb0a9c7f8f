// The split virtqueue (virtio 1.x "split" layout, legacy memory layout): a
// descriptor table with a free list, an available ring written by the driver
// and a used ring written by the device, plus the two notification-suppression
// flags. Plain C++: no SimGrid, no policy.
//
// Layout and flag values are those of Linux include/uapi/linux/virtio_ring.h.
// Every descriptor is at every moment in exactly one state (docs/model.md §3):
//   Free   - on the driver's free list;
//   Posted - part of a chain the driver added (published or not yet);
//   Device - part of a chain the device took from the avail ring;
//   Used   - returned on the used ring, not yet collected by the driver.
// With descriptor tracking on (set_descriptor_tracking: the --check mode and
// fault injection, which read single descriptors' states), each descriptor's
// state is kept and every transition checked; off, as in a plain run, only
// the count of descriptors in each state is kept, a chain at a time, which
// spares two of the three walks a chain's trip takes (pop_avail, flush_used).
// Either way check_invariants() verifies the whole structure (free list,
// rings, chains, the counts) from scratch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "sim/core/vring_types.hpp"

namespace vringsim {

struct SplitRingFaults;  // sim/core/ring_faults.hpp

/// Bytes of guest memory a split virtqueue of `num` entries occupies:
/// `vring_size()` in include/uapi/linux/virtio_ring.h. With the event index
/// (VIRTIO_RING_F_EVENT_IDX) the avail ring ends with used_event and the used
/// ring with avail_event, a u16 each; the 2008 layout had neither:
/// ALIGN(16N + 2(2+N), 4096) + 4 + 8N (10244 bytes at 256 entries).
constexpr uint64_t vring_size(uint64_t num, bool event_idx, uint64_t align = kVringAlign) {
  const uint64_t event = event_idx ? 1 : 0;
  const uint64_t desc_and_avail = kDescriptorBytes * num + sizeof(uint16_t) * (2 + event + num);
  const uint64_t aligned = (desc_and_avail + align - 1) & ~(align - 1);
  return aligned + sizeof(uint16_t) * (2 + event) + 8 * num;  // used: flags, idx, [avail_event] + ring
}

/// Queue sizes the model accepts: a power of two in 1..32768.
constexpr bool is_valid_queue_size(int64_t num) { return num >= 1 && num <= kMaxQueueSize && (num & (num - 1)) == 0; }

class SplitRing {
 public:
  /// `event_idx`: VIRTIO_RING_F_EVENT_IDX negotiated (the ring's layout and
  /// how notifications are suppressed). `indirect`:
  /// VIRTIO_RING_F_INDIRECT_DESC negotiated: a chain of several buffers
  /// takes one ring descriptor pointing to a table of them.
  explicit SplitRing(uint32_t num, bool event_idx = false, bool indirect = false);
  SplitRing(SplitRing&&) noexcept;
  SplitRing& operator=(SplitRing&&) noexcept;
  ~SplitRing();

  /// Keeps each descriptor's state and checks every transition (on when
  /// made), or only the counts per state (off: the same figures, fewer walks).
  /// Switched only while every descriptor is free. Fault injection and
  /// state() need it on.
  void set_descriptor_tracking(bool on);
  bool descriptor_tracking() const { return track_; }

  uint32_t size() const { return num_; }
  bool event_idx() const { return event_idx_; }
  bool indirect() const { return indirect_; }
  uint64_t bytes() const { return vring_size(num_, event_idx_); }

  // ---- driver side -------------------------------------------------------
  uint32_t num_free() const { return num_free_; }
  /// Adds a device-writable chain; its head goes on the avail ring but stays
  /// invisible to the device until publish_avail(). Returns the head, or
  /// nothing (and changes nothing) if the free list is too short. With
  /// indirect descriptors, several buffers go into a table (16 bytes each)
  /// and take one ring descriptor (virtqueue_add_split: vq->indirect &&
  /// total_sg > 1).
  std::optional<uint16_t> add_inbuf(std::span<const BufferSeg> segs, uint32_t* ring_descs = nullptr);
  /// Makes every added chain visible: avail->idx catches up (2.6.27 vring_kick).
  /// Returns how many chains were published.
  uint32_t publish_avail();
  /// Whether the driver must kick after publishing `published` chains
  /// (virtqueue_kick_prepare): with the event index, if the device's
  /// avail_event is among them; else if VRING_USED_F_NO_NOTIFY is clear.
  bool kick_needed(uint32_t published) const {
    if (event_idx_)
      return vring_need_event(avail_event_, avail_idx_, static_cast<uint16_t>(avail_idx_ - published));
    return (used_flags_ & kVringUsedFNoNotify) == 0;
  }
  /// Used entries the driver has not collected yet.
  uint32_t used_pending() const { return static_cast<uint16_t>(used_idx_ - last_used_idx_); }
  /// Collects the next used entry and returns its chain to the free list.
  std::optional<UsedElem> get_buf();
  /// Suppresses interrupts (virtqueue_disable_cb_split): once per enable
  /// (the driver's shadow of its flags), and not at all in shared memory
  /// after an interrupt was taken with the event index ("If device
  /// triggered an event already it won't trigger one again": used_event is
  /// left where the driver put it); else the flag, or with the event index
  /// used_event = 0 ("a hack", says Linux: no interrupt until the used
  /// index crosses 0).
  void disable_cb() {
    if (avail_flags_shadow_ & kVringAvailFNoInterrupt) return;
    avail_flags_shadow_ |= kVringAvailFNoInterrupt;
    if (event_triggered_) return;
    if (event_idx_)
      used_event_ = 0;
    else
      avail_flags_ = avail_flags_shadow_;
  }
  /// Re-enables interrupts (virtqueue_enable_cb_prepare_split: the flag, or
  /// used_event = the next entry to collect; event_triggered cleared); false
  /// if used entries are already pending (virtqueue_poll: the caller must
  /// poll again).
  bool enable_cb() {
    if (avail_flags_shadow_ & kVringAvailFNoInterrupt) {
      avail_flags_shadow_ &= static_cast<uint16_t>(~kVringAvailFNoInterrupt);
      if (!event_idx_) avail_flags_ = avail_flags_shadow_;
    }
    if (event_idx_) used_event_ = last_used_idx_;
    event_triggered_ = false;
    return used_pending() == 0;
  }
  /// The guest took an interrupt (vring_interrupt): with the event index it
  /// notes that the device will not interrupt again until used_event moves
  /// (vq->event_triggered), so disable_cb() need not write.
  void interrupt_taken() {
    if (event_idx_) event_triggered_ = true;
  }

  // ---- device side -------------------------------------------------------
  /// Published chains the device has not taken yet.
  uint32_t avail_pending() const { return static_cast<uint16_t>(avail_idx_ - last_avail_idx_); }
  /// Writable bytes of the published chains not yet taken, summed in ring
  /// order until the sum reaches `need` (virtqueue_avail_bytes()). Chains a
  /// device would refuse (check_next_chain) count nothing.
  uint64_t avail_bytes_upto(uint64_t need, uint32_t max_descriptors = kMaxQueueSize) const;
  /// Writable bytes of the next chain the device would take (0 if none).
  uint64_t next_chain_bytes() const;
  /// Takes the next published chain (virtqueue_pop()); its descriptors move to
  /// Device. If `segs` is given, it receives the chain's buffers in order;
  /// `ring_descs`, the ring descriptors the chain takes; `totals`, its
  /// buffers counted and summed.
  uint16_t pop_avail(std::vector<BufferSeg>* segs = nullptr, uint32_t* ring_descs = nullptr,
                     ChainTotals* totals = nullptr);
  /// Writes a used element after the ones already written (virtqueue_fill()).
  void push_used(uint16_t head, uint32_t len);
  /// Publishes the `count` oldest written used elements (virtqueue_flush()).
  void flush_used(uint32_t count);
  /// Elements written but not yet flushed.
  uint32_t used_unflushed() const { return unflushed_; }
  /// Whether to interrupt the driver for the used entries published so far
  /// (virtio_split_should_notify / vhost_notify, called right after each
  /// publication): with the event index, if the driver's used_event is among
  /// the entries published since the last time the device asked (always the
  /// first time); else if VRING_AVAIL_F_NO_INTERRUPT is clear, or, with the
  /// device's notify-on-empty rule, if it has no buffer left. With the
  /// event index asking moves "the last time".
  bool should_interrupt() {
    if (!event_idx_)
      return (avail_flags_ & kVringAvailFNoInterrupt) == 0 || (notify_on_empty_ && device_out_of_buffers());
    const uint16_t now = used_idx_;
    const bool first = !signalled_valid_;
    const uint16_t old = signalled_used_;
    signalled_valid_ = true;
    signalled_used_ = now;
    return first || vring_need_event(used_event_, now, old);
  }
  /// The 2008 QEMU's rule (host.notify_on_empty): the device interrupts
  /// whatever VRING_AVAIL_F_NO_INTERRUPT says once it has no buffer left.
  /// kvm-userspace qemu/hw/virtio.c virtio_notify() from 2008-08-11
  /// (67fecf87, "kvm: qemu: Add VIRTIO_F_NOTIFY_ON_EMPTY"; kvm-80; QEMU
  /// 0.10.0's hw/virtio.c), applied whether or not the guest accepted the
  /// feature bit: "Always notify when queue is empty": `if ((vq->inuse ||
  /// vring_avail_idx(vq) != vq->last_avail_idx) && (vring_avail_flags(vq) &
  /// VRING_AVAIL_F_NO_INTERRUPT)) return;`. That code reads no event index
  /// (RING_EVENT_IDX came later): the rule is the flags' only.
  void set_notify_on_empty(bool on);
  bool notify_on_empty() const { return notify_on_empty_; }
  /// The device has no buffer left: every published chain taken
  /// (vring_avail_idx == last_avail_idx) and every chain taken published on
  /// the used ring (QEMU's vq->inuse == 0: virtqueue_pop counts up,
  /// virtqueue_flush down). The device works ahead of its publications
  /// (sim/world/shared.hpp UsedTimeline): at the publication of one frame it
  /// may already hold the chains of frames it publishes later. It took them
  /// after this publication in time (QEMU pops a frame's chains when that
  /// frame's turn comes), so they were still on the avail ring then; either
  /// way they are buffers left, and the ring is not out of them.
  bool device_out_of_buffers() const { return avail_pending() == 0 && count(DescState::Device) == 0; }
  /// Enables or suppresses guest kicks (vhost_enable_notify /
  /// vhost_disable_notify; QEMU's virtio_queue_split_set_notification does
  /// the same): the flag, or with the event index avail_event = the avail
  /// index the device has seen when enabling, and nothing written when
  /// suppressing (QEMU's vring_set_avail_event returns while notifications
  /// are off, so neither does its virtqueue_split_pop move avail_event on the
  /// receive path, where virtio_net_has_buffers has just turned them off).
  void set_notification(bool enable) {
    if (event_idx_) {
      if (enable) avail_event_ = avail_idx_;
    } else if (enable) {
      used_flags_ &= static_cast<uint16_t>(~kVringUsedFNoNotify);
    } else {
      used_flags_ |= kVringUsedFNoNotify;
    }
  }
  /// Whether a publication (of at most a ring's worth of chains) could make
  /// the driver kick: the flag clear, or avail_event within a ring of the
  /// avail index.
  bool kick_possible() const {
    if (event_idx_) return static_cast<uint16_t>(avail_event_ - avail_idx_) < num_;
    return (used_flags_ & kVringUsedFNoNotify) == 0;
  }
  // The driver's notification fields in shared memory, for tests.
  uint16_t used_event() const { return used_event_; }
  uint16_t avail_flags() const { return avail_flags_; }

  // ---- a device that defends itself ---------------------------------------
  /// Checks the chain the next published avail entry names, reading only
  /// what a device can read (the shared table and ring), as a device does
  /// before it uses a chain. None if the chain is fine (or none is published).
  /// `bytes`, if given, receives the chain's writable bytes when it is fine.
  ChainFault check_next_chain(uint32_t max_descriptors, uint64_t* bytes = nullptr) const;
  /// Consumes the front avail entry, found faulty by check_next_chain(). If
  /// it names a chain the driver posted, the chain moves to the device, which
  /// may return it unused (push_used with length 0); its head is returned.
  /// A stray entry (no chain of its own) is consumed and nothing returned.
  std::optional<uint16_t> discard_avail();

  // ---- shared memory as a driver may write it ------------------------------
  // (a correct driver never does this; sim/core/ring_faults.hpp builds
  // faulty chains from these writes, and keeps what they wrote for the
  // ring in SplitRingFaults.)
  /// Writes `d` into the device-visible table at `i` (a posted descriptor)
  /// without changing the driver's own record, as Linux keeps desc_extra
  /// apart from the shared table. Re-adding the descriptor writes it afresh.
  void write_shared_desc(uint16_t i, const Descriptor& d);
  /// Adds an avail entry naming `head` with no chain of its own (the head of
  /// a chain already added, or an index past the table). False if the avail
  /// ring has no room.
  bool add_raw_avail(uint16_t head);
  /// Writes entry `k` of the indirect table of the posted chain at `head`
  /// as the device will read it (the driver's record stays).
  void write_shared_table_entry(uint16_t head, uint32_t k, const Descriptor& d);
  /// Bytes of the chain starting at `head` (its table's, if indirect), by the driver's own record.
  uint64_t chain_bytes(uint16_t head) const;
  /// The last ring descriptor of the chain starting at `head`, by the driver's own record.
  uint16_t chain_tail(uint16_t head) const;
  /// Buffers in the chain starting at `head` (table entries, if indirect), by the driver's own record.
  uint32_t chain_descriptors(uint16_t head) const;
  /// Ring descriptors the chain at `head` takes: 1 with an indirect table.
  uint32_t ring_descriptors(uint16_t head) const {
    return (desc_[head].flags & kVringDescFIndirect) ? 1 : chain_descriptors(head);
  }
  /// Bytes of the indirect table of the chain at `head` (0 if it has none).
  uint64_t table_bytes(uint16_t head) const { return table(head).size() * kDescriptorBytes; }
  /// The indirect table of the chain at `head` (empty if it has none).
  const std::vector<Descriptor>& table(uint16_t head) const {
    static const std::vector<Descriptor> kNone;
    return table_.empty() ? kNone : table_[head];
  }
  /// Avail entries that name no chain of their own, not yet consumed.
  uint32_t stray_avail() const;

  // ---- inspection --------------------------------------------------------
  /// Descriptor `i`'s state (descriptor tracking on).
  DescState state(uint16_t i) const;
  uint32_t count(DescState s) const { return counts_[static_cast<int>(s)]; }
  const Descriptor& desc(uint16_t i) const { return desc_[i]; }
  /// Verifies the whole structure from scratch; throws InvariantError naming
  /// the first violation. O(size).
  void check_invariants() const;

 private:
  /// With tracking on, every descriptor of every chain moves through here
  /// four times a trip: inline, with the error out of line. The counts move
  /// a chain at a time (move_count).
  void set_state(uint16_t i, DescState from, DescState to) {
    if (state_[i] != from) [[unlikely]]
      wrong_state(i, from);
    state_[i] = to;
  }
  void move_count(DescState from, DescState to, uint32_t n) {
    counts_[static_cast<int>(from)] -= n;
    counts_[static_cast<int>(to)] += n;
  }
  /// Ring descriptors of the chain at `head` by the driver's record, without
  /// a walk: 1 with an indirect table, else one per buffer.
  uint32_t ring_count(uint16_t head) const {
    return (desc_[head].flags & kVringDescFIndirect) ? 1 : added(head).count;
  }
  [[noreturn, gnu::cold, gnu::noinline]] void wrong_state(uint16_t i, DescState expected) const;
  uint16_t ring_slot(uint16_t idx) const { return static_cast<uint16_t>(idx & (num_ - 1)); }
  /// Fault injection's state, made at the first fault.
  SplitRingFaults& faults();
  ChainFault check_table(const Descriptor& d, uint16_t head, uint32_t max_descriptors, uint64_t* bytes) const;
  ChainFault check_chain(uint16_t head, uint32_t max_descriptors, uint64_t* bytes) const;
  /// check_chain() of an available chain nobody has written over since the
  /// driver added it, from what add_inbuf() recorded, without the walk.
  ChainFault check_as_added(uint16_t head, uint32_t max_descriptors, uint64_t* bytes) const;
  /// Where a walk of the driver's record ended: the chain's last ring
  /// descriptor and how many ring descriptors it has.
  struct ChainEnd {
    uint16_t tail;
    uint32_t count;
  };
  /// The one walk of a chain by the driver's own record (desc_, as
  /// add_inbuf() linked it; never what a faulty driver wrote over in shared
  /// memory: the device's walk is check_chain()). Calls fn(i) on each ring
  /// descriptor from `head`, following VRING_DESC_F_NEXT, as Linux's
  /// detach_buf_split() does. An indirect head is one ring descriptor;
  /// for_each_buffer(i) gives what it stands for. A chain longer than the ring
  /// loops: a bug, thrown as "descriptor chain loops" (`where: ` before it
  /// if given).
  template <class Fn>
  ChainEnd walk_chain(uint16_t head, Fn&& fn, const char* where = nullptr) const;
  [[noreturn, gnu::cold, gnu::noinline]] static void chain_loops(const char* where);
  /// Calls fn on each buffer ring descriptor `i` stands for, by the
  /// driver's record: its indirect table's entries, or itself.
  template <class Fn>
  void for_each_buffer(uint16_t i, Fn&& fn) const {
    if (desc_[i].flags & kVringDescFIndirect) {
      for (const Descriptor& e : table_[i]) fn(e);
    } else {
      fn(desc_[i]);
    }
  }
  /// A chain the device may take: added, not yet taken, and its own avail
  /// entry published. (A stray entry naming a head the driver has added again
  /// but not yet published must not hand the device that chain: it would be
  /// taken before it was posted.)
  bool is_available_head(uint16_t head) const {
    return head < num_ && avail_head_[head] &&
           static_cast<uint16_t>(avail_pos_[head] - last_avail_idx_) <
               static_cast<uint16_t>(avail_idx_ - last_avail_idx_);
  }

  uint32_t num_;
  bool event_idx_;
  bool indirect_;
  bool track_ = true;  ///< each descriptor's state kept (set_descriptor_tracking)
  std::vector<Descriptor> desc_;
  std::vector<DescState> state_;
  uint32_t counts_[4] = {0, 0, 0, 0};

  // driver-private
  uint16_t free_head_ = 0;
  uint32_t num_free_;
  uint16_t avail_shadow_ = 0;  ///< avail index including unpublished chains
  uint16_t last_used_idx_ = 0;
  uint16_t avail_flags_shadow_ = 0;  ///< the driver's own copy of avail->flags
  bool event_triggered_ = false;     ///< an interrupt taken since the last enable_cb (event index)

  // shared ring memory (the two event fields only with the event index)
  uint16_t used_event_ = 0;   ///< at the end of the avail ring, written by the driver
  uint16_t avail_event_ = 0;  ///< at the end of the used ring, written by the device
  uint16_t avail_flags_ = 0;
  uint16_t avail_idx_ = 0;
  std::vector<uint16_t> avail_ring_;
  uint16_t used_flags_ = 0;
  uint16_t used_idx_ = 0;
  std::vector<UsedElem> used_ring_;

  // device-private
  uint16_t last_avail_idx_ = 0;
  uint16_t signalled_used_ = 0;  ///< published used index when the device last asked should_interrupt()
  bool signalled_valid_ = false;
  bool notify_on_empty_ = false;  ///< the 2008 QEMU's "always notify when queue is empty" (set_notify_on_empty)
  uint32_t unflushed_ = 0;
  std::vector<uint8_t> device_head_;  ///< 1 where a chain held by the device starts
  std::vector<uint8_t> avail_head_;   ///< 1 where a posted chain the device has not taken starts
  std::vector<uint16_t> avail_pos_;   ///< the avail index of that chain's own entry

  /// Indirect tables by head, as the driver wrote them: sized at the first
  /// chain added with a table (empty until then: a ring without
  /// INDIRECT_DESC, or whose chains are all one buffer, never has one).
  std::vector<std::vector<Descriptor>> table_;
  /// Fault injection (sim/core/ring_faults.hpp): what a faulty driver wrote
  /// into shared memory over its own record (write_shared_desc,
  /// write_shared_table_entry), the stray avail entries it added
  /// (add_raw_avail), and the scratch of the device's walk of chains such
  /// writes may have broken. Made at the first fault: a run without faults
  /// carries this one null pointer (66 of a ring entry's 121 bytes were
  /// these copies and table_).
  std::unique_ptr<SplitRingFaults> faults_;
  /// What add_inbuf() wrote for each head: the chain's buffer bytes, its
  /// buffers (ring descriptors, or table entries), and the first zero-length
  /// one (`count` if none).
  struct Added {
    uint64_t bytes = 0;
    uint32_t count = 0;
    uint32_t first_zero = 0;
  };
  /// 8 bytes a head: count 0 (no chain is empty) says the chain did not
  /// fit (4 GiB or more, 65,536 buffers or more) and is in wide_.
  struct AsAdded {
    uint32_t bytes = 0;
    uint16_t count = 0;
    uint16_t first_zero = 0;
  };
  std::vector<AsAdded> as_added_;
  std::vector<Added> wide_;  ///< made at the first chain that does not fit AsAdded
  Added added(uint16_t head) const {
    const AsAdded& a = as_added_[head];
    if (a.count) [[likely]]
      return {a.bytes, a.count, a.first_zero};
    return wide_[head];
  }
  void record_added(uint16_t head, uint64_t bytes, uint32_t count, uint32_t first_zero);
};

}  // namespace vringsim

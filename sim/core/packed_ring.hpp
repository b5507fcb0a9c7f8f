// The packed virtqueue (virtio 1.x 2.8, VIRTIO_F_RING_PACKED): one ring of
// 16-byte descriptors that both sides read and write, and two 4-byte event
// suppression areas. Plain C++: no SimGrid, no policy.
//
// The driver writes a chain into consecutive ring slots, marking each
// descriptor available with its wrap counter (AVAIL = wrap, USED = !wrap),
// the head last; the Buffer ID goes in the last descriptor. The device reads
// slots in ring order and, when it is done with a chain, writes one used
// descriptor (AVAIL = USED = its wrap counter) with the Buffer ID at its own
// used position, then skips as many slots as the chain took. Both wrap
// counters start at 1 and flip each time a side passes the end of the ring,
// so the queue size need not be a power of two.
//
// Notifications go through the event suppression areas: the device writes
// ENABLE / DISABLE / DESC (a slot and wrap counter, with RING_EVENT_IDX) to
// say when it wants kicks, the driver likewise for interrupts (Linux
// virtqueue_kick_prepare_packed, virtqueue_enable_cb_prepare_packed; QEMU
// virtio_queue_packed_set_notification, virtqueue_packed_should_notify).
//
// The model counts positions as 64-bit totals (slot = position mod size,
// wrap counter = 1 on even laps), so event positions compare exactly,
// across any number of laps.
//
// Each Buffer ID (0..size-1) is at every moment in exactly one state: Free,
// Posted (added, published or not), Device (taken by the device), Used
// (returned, not yet collected). count(s) counts the ring slots the chains
// in state s take. Transitions are checked on every operation;
// check_invariants() verifies the whole structure from scratch.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "sim/core/inline_vec.hpp"
#include "sim/core/vring_types.hpp"

namespace vringsim {

// include/uapi/linux/virtio_ring.h
inline constexpr uint16_t kPackedDescFAvail = 1 << 7;
inline constexpr uint16_t kPackedDescFUsed = 1 << 15;
inline constexpr uint16_t kPackedEventEnable = 0x0;
inline constexpr uint16_t kPackedEventDisable = 0x1;
inline constexpr uint16_t kPackedEventDesc = 0x2;  ///< only with RING_EVENT_IDX
inline constexpr uint16_t kPackedEventWrapBit = 15;

/// Bytes of guest memory a packed virtqueue of `num` entries occupies: the
/// descriptor ring (16 bytes per entry) and the driver and device event
/// suppression areas (4 bytes each; virtio 1.x 2.8.10.1). 4104 at 256.
constexpr uint64_t packed_ring_size(uint64_t num) { return kDescriptorBytes * num + 4 + 4; }

/// Queue sizes a packed ring takes: any size in 1..32768 (virtio 1.x 2.8:
/// "The Queue Size value does not have to be a power of 2").
constexpr bool is_valid_packed_size(int64_t num) { return num >= 1 && num <= kMaxQueueSize; }

/// The faults a driver can put into a packed chain by writing the ring (no
/// head indexes, no next links: no loop, no stray or doubled head).
constexpr bool packed_fault_injectable(ChainFault f) {
  return f == ChainFault::ZeroLength || f == ChainFault::ReadOnly || f == ChainFault::BadIndirect;
}

/// struct pvirtq_desc.
struct PackedDesc {
  uint64_t addr = 0;
  uint32_t len = 0;
  uint16_t id = 0;
  uint16_t flags = 0;
};

/// struct pvirtq_event_suppress.
struct EventSuppress {
  uint16_t off_wrap = 0;  ///< slot, and the wrap counter in bit 15
  uint16_t flags = kPackedEventEnable;
};

class PackedRing {
 public:
  /// `event_idx`: RING_EVENT_IDX negotiated (DESC event suppression).
  /// `indirect`: RING_INDIRECT_DESC negotiated (a posting of several buffers
  /// takes one slot pointing to a table; virtqueue_add_packed:
  /// vq->indirect && total_sg > 1).
  explicit PackedRing(uint32_t num, bool event_idx = false, bool indirect = false);

  uint32_t size() const { return num_; }
  bool event_idx() const { return event_idx_; }
  bool indirect() const { return indirect_; }
  uint64_t bytes() const { return packed_ring_size(num_); }

  // ---- driver side -------------------------------------------------------
  uint32_t num_free() const { return num_free_; }
  /// Writes a device-writable chain into the next free slots and gives it a
  /// Buffer ID, which is returned; the head stays unavailable until
  /// publish_avail(). Nothing changes if too few slots are free.
  std::optional<uint16_t> add_inbuf(std::span<const BufferSeg> segs, uint32_t* ring_descs = nullptr);
  /// Makes every added chain available (writes the heads' AVAIL/USED bits).
  /// Returns how many chains were published.
  uint32_t publish_avail();
  /// Whether the driver must kick for its last publication
  /// (virtqueue_kick_prepare_packed): DESC - if the device's event slot is
  /// among the slots just made available; else unless DISABLE. The ring
  /// remembers the slots it published last; `published` (chains) is not needed.
  bool kick_needed(uint32_t published) const;
  /// Used descriptors the driver has not collected yet.
  uint32_t used_pending() const { return used_visible_; }
  /// Reads the used descriptor at the driver's position, frees its chain's
  /// slots and Buffer ID (virtqueue_get_buf_ctx_packed).
  std::optional<UsedElem> get_buf();
  /// DISABLE in the driver area (virtqueue_disable_cb_packed): once per
  /// enable (the driver's shadow of its flags), and not written after an
  /// interrupt was taken with the event index (event_triggered: the device
  /// will not interrupt again for the DESC position it has passed).
  void disable_cb() {
    if (driver_flags_shadow_ == kPackedEventDisable) return;
    driver_flags_shadow_ = kPackedEventDisable;
    if (event_triggered_) return;
    driver_event_.flags = kPackedEventDisable;
  }
  /// ENABLE, or with the event index DESC at the next slot to collect
  /// (virtqueue_enable_cb_prepare_packed; event_triggered cleared); false if
  /// used descriptors are already pending.
  bool enable_cb();
  /// The guest took an interrupt (vring_interrupt): with the event index,
  /// vq->event_triggered (see disable_cb).
  void interrupt_taken() {
    if (event_idx_) event_triggered_ = true;
  }

  // ---- device side -------------------------------------------------------
  /// Available chains the device has not taken yet.
  uint32_t avail_pending() const { return avail_chains_; }
  /// Writable bytes of the available chains, in ring order, until the sum
  /// reaches `need` (virtqueue_packed_get_avail_bytes). Chains a device would
  /// refuse count nothing.
  uint64_t avail_bytes_upto(uint64_t need, uint32_t max_descriptors = kMaxQueueSize) const;
  uint64_t next_chain_bytes() const;
  /// Takes the next available chain (virtqueue_packed_pop); returns its
  /// Buffer ID. The out-parameters as SplitRing::pop_avail's.
  uint16_t pop_avail(std::vector<BufferSeg>* segs = nullptr, uint32_t* ring_descs = nullptr,
                     ChainTotals* totals = nullptr);
  /// Writes the used descriptor of chain `id` at the device's used position
  /// (visible once flushed) and skips the slots the chain took.
  void push_used(uint16_t id, uint32_t len);
  /// Makes the `count` oldest written used descriptors visible (the flags).
  void flush_used(uint32_t count);
  uint32_t used_unflushed() const { return static_cast<uint32_t>(unflushed_.size()); }
  /// Whether to interrupt for the used descriptors published so far
  /// (virtqueue_packed_should_notify, right after each publication): DISABLE
  /// never, ENABLE always, DESC if the driver's event slot is among those
  /// published since the device last asked (always the first time).
  bool should_interrupt();
  /// Kicks wanted or not (virtio_queue_packed_set_notification): DISABLE, or
  /// ENABLE / DESC at the first slot the driver has not made available yet.
  void set_notification(bool enable);
  /// Whether a publication could make the driver kick: unless DISABLE.
  bool kick_possible() const { return device_event_.flags != kPackedEventDisable; }

  // ---- a device that defends itself ---------------------------------------
  /// Checks the next available chain as the device reads it from the ring.
  ChainFault check_next_chain(uint32_t max_descriptors, uint64_t* bytes = nullptr) const;
  /// Consumes the next available chain, found faulty, so the device can
  /// return it unused; returns its Buffer ID.
  std::optional<uint16_t> discard_avail();

  // ---- shared memory as a driver may write it ------------------------------
  /// Descriptor `k` of the posted chain `id`, as it is in the ring.
  const PackedDesc& chain_desc(uint16_t id, uint32_t k) const;
  /// Writes descriptor `k` of the posted chain `id` as the device will read
  /// it; its AVAIL/USED bits stay the driver's (a chain is published by them).
  void write_chain_desc(uint16_t id, uint32_t k, const PackedDesc& d);
  /// Writes entry `k` of the shared indirect table of posted chain `id`.
  void write_shared_table_entry(uint16_t id, uint32_t k, const Descriptor& d);
  /// By the driver's record: the chain's bytes, buffers, ring slots, table.
  uint64_t chain_bytes(uint16_t id) const;
  uint32_t chain_descriptors(uint16_t id) const { return static_cast<uint32_t>(segs_[id].size()); }
  uint32_t ring_descriptors(uint16_t id) const { return slots_[id]; }
  uint64_t table_bytes(uint16_t id) const { return table(id).size() * kDescriptorBytes; }
  const std::vector<Descriptor>& table(uint16_t id) const { return table_.empty() ? no_table() : table_[id]; }

  // ---- inspection --------------------------------------------------------
  DescState state(uint16_t id) const { return state_[id]; }
  uint32_t count(DescState s) const { return counts_[static_cast<int>(s)]; }
  const EventSuppress& driver_event() const { return driver_event_; }
  const EventSuppress& device_event() const { return device_event_; }
  /// The driver's wrap counter for the next slot it fills / collects.
  bool avail_wrap() const { return wrap_of(added_); }
  bool used_wrap() const { return wrap_of(collected_); }
  /// Slots the driver has filled / published / collected and the device has taken / used, since the start.
  uint64_t added_slots() const { return added_; }
  uint64_t taken_slots() const { return taken_; }
  uint64_t used_slots() const { return used_; }
  void check_invariants() const;

 private:
  uint32_t slot_of(uint64_t pos) const { return static_cast<uint32_t>(pos % num_); }
  bool wrap_of(uint64_t pos) const { return ((pos / num_) & 1) == 0; }
  bool is_avail(uint64_t pos) const;
  bool is_used(uint64_t pos) const;
  /// The absolute position an event (slot | wrap << 15) names, seen from
  /// position `now`: this lap's slot if the wrap counters agree, else the last lap's.
  int64_t event_position(uint16_t off_wrap, uint64_t now) const;
  /// The chain at position `pos`, as a device reads it; `slots` receives how
  /// many slots it takes when its structure can be followed.
  ChainFault check_chain_at(uint64_t pos, uint32_t max_descriptors, uint64_t* bytes, uint32_t* slots) const;
  ChainFault check_table(const PackedDesc& d, uint32_t max_descriptors, uint64_t* bytes) const;
  void set_state(uint16_t id, DescState from, DescState to);
  uint16_t take(uint64_t pos, uint16_t id);

  uint32_t num_;
  bool event_idx_;
  bool indirect_;
  std::vector<PackedDesc> ring_;  ///< shared memory
  EventSuppress driver_event_;    ///< written by the driver (interrupts)
  uint16_t driver_flags_shadow_ = kPackedEventEnable;  ///< the driver's own copy of its flags
  bool event_triggered_ = false;  ///< an interrupt taken since the last enable_cb (event index)
  EventSuppress device_event_;    ///< written by the device (kicks)

  // driver-private (desc_state / desc_extra): per Buffer ID
  std::vector<DescState> state_;
  std::vector<uint64_t> pos_;                      ///< position of the chain's first slot
  std::vector<uint32_t> slots_;                    ///< slots the chain takes
  std::vector<InlineVec<BufferSeg>> segs_;  ///< the buffers, as the driver posted them (one: no heap)
  // Indirect tables by Buffer ID, as the driver wrote them and as the
  // device reads them: sized at the first chain added with a table (a ring
  // without INDIRECT_DESC, or with one-buffer chains only, never has one).
  std::vector<std::vector<Descriptor>> table_;
  std::vector<std::vector<Descriptor>> shared_table_;
  static const std::vector<Descriptor>& no_table() {
    static const std::vector<Descriptor> kNone;
    return kNone;
  }
  const std::vector<Descriptor>& shared_table(uint16_t id) const {
    return shared_table_.empty() ? no_table() : shared_table_[id];
  }
  std::vector<uint16_t> free_ids_;                 ///< a stack; the top is handed out next
  uint32_t counts_[4] = {0, 0, 0, 0};
  uint32_t num_free_;
  uint64_t added_ = 0;      ///< slots written by the driver
  uint64_t published_ = 0;  ///< slots made available
  uint64_t collected_ = 0;  ///< slots freed by get_buf
  uint32_t last_published_slots_ = 0;
  std::deque<uint16_t> posted_;  ///< Buffer IDs added and not taken, in ring order
  uint32_t avail_chains_ = 0;    ///< the published ones among them (at the front)
  uint32_t used_visible_ = 0;    ///< used descriptors flushed, not collected

  // device-private
  uint64_t taken_ = 0;    ///< slots read
  uint64_t used_ = 0;     ///< next used position (written, flushed or not)
  uint64_t flushed_ = 0;  ///< used position up to which descriptors are visible
  struct Pending {
    uint64_t pos;
    uint16_t id;
    uint32_t len;
  };
  std::deque<Pending> unflushed_;
  std::vector<uint8_t> written_;  ///< per Buffer ID: its used descriptor is written (not yet visible)
  uint64_t signalled_ = 0;        ///< used position when the device last asked should_interrupt()
  bool signalled_valid_ = false;
};

}  // namespace vringsim

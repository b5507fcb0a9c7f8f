// The split virtqueue (virtio 1.x "split" layout, legacy memory layout): a
// descriptor table with a free list, an available ring written by the driver
// and a used ring written by the device, plus the two notification-suppression
// flags. Plain C++: no SimGrid, no policy.
//
// Layout and flag values are those of Linux include/uapi/linux/virtio_ring.h.
// Every descriptor is at every moment in exactly one state (MODEL.md §3):
//   Free   - on the driver's free list;
//   Posted - part of a chain the driver added (published or not yet);
//   Device - part of a chain the device took from the avail ring;
//   Used   - returned on the used ring, not yet collected by the driver.
// Transitions are checked on every operation; check_invariants() verifies the
// whole structure (free list, rings, chains) from scratch.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace vringsim {

// include/uapi/linux/virtio_ring.h
inline constexpr uint16_t kVringDescFNext = 1;
inline constexpr uint16_t kVringDescFWrite = 2;
inline constexpr uint16_t kVringDescFIndirect = 4;
inline constexpr uint16_t kVringAvailFNoInterrupt = 1;
inline constexpr uint16_t kVringUsedFNoNotify = 1;
/// Largest queue size the virtio spec allows (2.7 "Split Virtqueues": Queue Size <= 32768).
inline constexpr uint32_t kMaxQueueSize = 32768;
/// The legacy interface aligns the used ring to a 4096-byte page.
inline constexpr uint64_t kVringAlign = 4096;
inline constexpr uint32_t kDescriptorBytes = 16;

/// Bytes of guest memory a split virtqueue of `num` entries occupies:
/// `vring_size()` in include/uapi/linux/virtio_ring.h.
constexpr uint64_t vring_size(uint64_t num, uint64_t align = kVringAlign) {
  const uint64_t desc_and_avail = kDescriptorBytes * num + sizeof(uint16_t) * (3 + num);
  const uint64_t aligned = (desc_and_avail + align - 1) & ~(align - 1);
  return aligned + sizeof(uint16_t) * 3 + 8 * num;  // used: flags, idx, avail_event + ring
}

/// Queue sizes the model accepts: a power of two in 1..32768.
constexpr bool is_valid_queue_size(int64_t num) { return num >= 1 && num <= kMaxQueueSize && (num & (num - 1)) == 0; }

struct Descriptor {
  uint64_t addr = 0;
  uint32_t len = 0;
  uint16_t flags = 0;
  uint16_t next = 0;
};

struct UsedElem {
  uint32_t id = 0;   ///< head of the returned chain
  uint32_t len = 0;  ///< bytes the device wrote into it
};

/// One guest buffer to hand to the device (one descriptor).
struct BufferSeg {
  uint64_t addr = 0;
  uint32_t len = 0;
};

enum class DescState : uint8_t { Free, Posted, Device, Used };

class VirtQueue {
 public:
  explicit VirtQueue(uint32_t num);

  uint32_t size() const { return num_; }
  uint64_t bytes() const { return vring_size(num_); }

  // ---- driver side -------------------------------------------------------
  uint32_t num_free() const { return num_free_; }
  /// Adds a device-writable chain; its head goes on the avail ring but stays
  /// invisible to the device until publish_avail(). Returns the head, or
  /// nothing (and changes nothing) if the free list is too short.
  std::optional<uint16_t> add_inbuf(std::span<const BufferSeg> segs);
  /// Makes every added chain visible: avail->idx catches up (2.6.27 vring_kick).
  /// Returns how many chains were published.
  uint32_t publish_avail();
  /// The device has not suppressed notifications (VRING_USED_F_NO_NOTIFY clear).
  bool kick_wanted() const { return (used_flags_ & kVringUsedFNoNotify) == 0; }
  /// Used entries the driver has not collected yet.
  uint32_t used_pending() const { return static_cast<uint16_t>(used_idx_ - last_used_idx_); }
  /// Collects the next used entry and returns its chain to the free list.
  std::optional<UsedElem> get_buf();
  void disable_cb() { avail_flags_ |= kVringAvailFNoInterrupt; }
  /// Re-enables interrupts; false if used entries are already pending (the
  /// caller must poll again: virtqueue_enable_cb()).
  bool enable_cb() {
    avail_flags_ &= static_cast<uint16_t>(~kVringAvailFNoInterrupt);
    return used_pending() == 0;
  }

  // ---- device side -------------------------------------------------------
  /// Published chains the device has not taken yet.
  uint32_t avail_pending() const { return static_cast<uint16_t>(avail_idx_ - last_avail_idx_); }
  /// Writable bytes of the published chains not yet taken, summed in ring
  /// order until the sum reaches `need` (virtqueue_avail_bytes()).
  uint64_t avail_bytes_upto(uint64_t need) const;
  /// Writable bytes of the next chain the device would take (0 if none).
  uint64_t next_chain_bytes() const;
  /// Takes the next published chain (virtqueue_pop()); its descriptors move to
  /// Device. If `segs` is given, it receives the chain's buffers in order.
  uint16_t pop_avail(std::vector<BufferSeg>* segs = nullptr);
  /// Writes a used element after the ones already written (virtqueue_fill()).
  void push_used(uint16_t head, uint32_t len);
  /// Publishes the `count` oldest written used elements (virtqueue_flush()).
  void flush_used(uint32_t count);
  /// Elements written but not yet flushed.
  uint32_t used_unflushed() const { return unflushed_; }
  /// The driver has not suppressed interrupts (VRING_AVAIL_F_NO_INTERRUPT clear).
  bool interrupt_wanted() const { return (avail_flags_ & kVringAvailFNoInterrupt) == 0; }
  /// virtio_queue_set_notification(): enable or suppress guest kicks.
  void set_notification(bool enable) {
    if (enable)
      used_flags_ &= static_cast<uint16_t>(~kVringUsedFNoNotify);
    else
      used_flags_ |= kVringUsedFNoNotify;
  }

  // ---- inspection --------------------------------------------------------
  DescState state(uint16_t i) const { return state_[i]; }
  uint32_t count(DescState s) const { return counts_[static_cast<int>(s)]; }
  const Descriptor& desc(uint16_t i) const { return desc_[i]; }
  /// Verifies the whole structure from scratch; throws InvariantError naming
  /// the first violation. O(size).
  void check_invariants() const;

 private:
  void set_state(uint16_t i, DescState from, DescState to);
  uint16_t ring_slot(uint16_t idx) const { return static_cast<uint16_t>(idx & (num_ - 1)); }

  uint32_t num_;
  std::vector<Descriptor> desc_;
  std::vector<DescState> state_;
  uint32_t counts_[4] = {0, 0, 0, 0};

  // driver-private
  uint16_t free_head_ = 0;
  uint32_t num_free_;
  uint16_t avail_shadow_ = 0;  ///< avail index including unpublished chains
  uint16_t last_used_idx_ = 0;

  // shared ring memory
  uint16_t avail_flags_ = 0;
  uint16_t avail_idx_ = 0;
  std::vector<uint16_t> avail_ring_;
  uint16_t used_flags_ = 0;
  uint16_t used_idx_ = 0;
  std::vector<UsedElem> used_ring_;

  // device-private
  uint16_t last_avail_idx_ = 0;
  uint32_t unflushed_ = 0;
  std::vector<uint8_t> device_head_;  ///< 1 where a chain held by the device starts
};

}  // namespace vringsim

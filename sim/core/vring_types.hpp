// What both virtqueue layouts share (virtio 1.x 2.7 split, 2.8 packed): the
// descriptor flags, the buffers a driver posts, the used element a device
// returns, the states a posted buffer passes through and the faults a device
// finds in a chain it is handed. Plain C++: no SimGrid, no policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vringsim {

// include/uapi/linux/virtio_ring.h
inline constexpr uint16_t kVringDescFNext = 1;
inline constexpr uint16_t kVringDescFWrite = 2;
inline constexpr uint16_t kVringDescFIndirect = 4;
inline constexpr uint16_t kVringAvailFNoInterrupt = 1;
inline constexpr uint16_t kVringUsedFNoNotify = 1;
/// Largest queue size the virtio spec allows (2.7 "Split Virtqueues": Queue Size <= 32768).
inline constexpr uint32_t kMaxQueueSize = 32768;
/// The legacy interface aligns the used ring to a 4096-byte page
/// (VIRTIO_PCI_VRING_ALIGN, drivers/virtio/virtio_pci_legacy.c setup_vq).
inline constexpr uint64_t kVringAlign = 4096;
/// A modern (VERSION_1) PCI device's split ring is aligned to the cache line:
/// drivers/virtio/virtio_pci_modern.c setup_vq() calls
/// vring_create_virtqueue(index, num, SMP_CACHE_BYTES, ...); 64 on x86-64.
inline constexpr uint64_t kVringAlignModern = 64;
inline constexpr uint32_t kDescriptorBytes = 16;
/// Where indirect tables are said to live, in both layouts (never a page the
/// guest allocator hands out).
inline constexpr uint64_t kIndirectTableBase = uint64_t{1} << 52;

/// vring_need_event() of include/uapi/linux/virtio_ring.h: with the event
/// index, notify when `event_idx` is among the entries from `old` (included)
/// to `new_idx` (excluded), counted modulo 2^16.
constexpr bool vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old) {
  return static_cast<uint16_t>(new_idx - event_idx - 1) < static_cast<uint16_t>(new_idx - old);
}

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
/// A chain's buffers, counted and summed (what a device needs of a chain it
/// maps, when it writes no data).
struct ChainTotals {
  uint32_t buffers = 0;
  uint64_t bytes = 0;
};

enum class DescState : uint8_t { Free, Posted, Device, Used };
/// "free", "posted", "device", "used".
const char* desc_state_name(DescState s);

/// What a device can find wrong with the chain an avail entry names, in the
/// order it checks (QEMU virtqueue_split_pop / virtqueue_split_read_next_desc,
/// Linux vhost_get_vq_desc; virtio 1.x 2.7.5.1-2.7.5.3). A packed ring has no
/// head indexes and no next links: there only TooLong, NextOutOfRange (the
/// chain runs into a descriptor the driver has not made available),
/// ZeroLength, ReadOnly and BadIndirect can occur.
enum class ChainFault : uint8_t {
  None,
  HeadOutOfRange,  ///< the avail entry names a descriptor past the table ("Guest says index %u is available")
  HeadInFlight,    ///< the head names a chain the device holds or already returned (a double add)
  Loop,            ///< the walk comes back to a descriptor it has seen ("Looped descriptor")
  TooLong,         ///< more descriptors than the device accepts in one chain
  NextOutOfRange,  ///< a next field past the table ("Desc next is %u"); packed: past the available descriptors
  ZeroLength,      ///< a zero-length buffer ("zero sized buffers are not allowed")
  ReadOnly,        ///< a buffer the device may not write, in a receive chain
  BadIndirect,     ///< an indirect table of a length that is not a positive multiple of 16, or an
                   ///< indirect descriptor inside a table or chained with NEXT (virtio 1.x 2.7.5.3.2)
};
inline constexpr int kChainFaults = 9;
const char* chain_fault_name(ChainFault f);
/// Parses a name chain_fault_name() gives (not "none").
std::optional<ChainFault> chain_fault_from_name(std::string_view name);

}  // namespace vringsim

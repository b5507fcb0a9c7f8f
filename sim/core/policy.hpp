// The receive-buffer allocation policy interface: what a guest driver does to
// fill the rx ring and to turn returned buffers into packets. A policy talks
// to the ring only through a real driver's operations: the core adds the
// chains it builds (add_inbuf) and hands back the ones the device returned.
// Policies are plug-ins (models/policies/); the core never names one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/core/config.hpp"
#include "sim/core/guest_memory.hpp"
#include "sim/core/guest_work.hpp"
#include "sim/core/inline_vec.hpp"
#include "sim/core/vring_types.hpp"
#include "sim/core/params.hpp"
#include "sim/core/virtio.hpp"
#include "sim/core/vring_types.hpp"

namespace vringsim {

/// A block of guest memory a posting holds.
struct MemoryBlock {
  uint64_t addr = 0;
  unsigned order = 0;  ///< 2^order pages; ignored for slab memory
  bool slab = false;   ///< kmalloc'd (skb data), freed with the skb
  /// The policy's own index for the block, in what was padding (the
  /// mergeable policy's page_frag slot: no search by address at free).
  uint16_t tag = 0;
};
static_assert(sizeof(MemoryBlock) == 16);

/// One buffer chain the driver posts: its descriptors and the memory behind
/// them. A one-buffer posting (mergeable, small) allocates nothing, and
/// `bytes` sits in the tail of `blocks`: the driver keeps one for every ring
/// entry, 48 bytes each.
struct Posting {
  [[no_unique_address]] InlineVec<BufferSeg> segs;
  [[no_unique_address]] InlineVec<MemoryBlock> blocks;  ///< page blocks in data order (for recycling)
  uint32_t bytes = 0;  ///< sum of segs' lengths (a descriptor's length is a u32 too)
};
static_assert(sizeof(Posting) == 48);

/// A returned chain: the posting and how many bytes the device wrote into it.
struct ReturnedBuffer {
  Posting* posting = nullptr;
  uint32_t written = 0;
};

class RxPolicy {
 public:
  virtual ~RxPolicy() = default;

  /// Negotiates VIRTIO_NET_F_MRG_RXBUF: the device may spread one packet over
  /// several chains and write their number into the header.
  virtual bool mergeable() const = 0;
  /// Bytes of virtio-net header the device writes before each frame.
  virtual uint32_t header_bytes() const = 0;
  /// Descriptor lengths of one posting when no allocation falls back: the
  /// shape the ring figures (slots, bytes) are computed from.
  virtual std::vector<uint32_t> nominal_posting() const = 0;
  /// The posting shape once a long stream of `frame_len`-byte frames has
  /// run (a policy that adapts its buffers, as the EWMA does, converges);
  /// the nominal one for a policy that does not adapt.
  virtual std::vector<uint32_t> posting_for_stream(uint32_t /*frame_len*/) const { return nominal_posting(); }
  /// Mergeable policies whose buffers in a long stream of `frame_len` frames
  /// are not all the posting's length (frag tails merged, premapped frags):
  /// the buffers one such frame takes. 0: count by the posting's length.
  virtual uint32_t buffers_for_stream_frame(uint32_t /*frame_len*/) const { return 0; }
  /// Builds the next posting, allocating its memory; adds the work to `work`.
  /// Returns nothing when memory cannot be allocated (refill stops; retried later).
  virtual std::optional<Posting> make_posting(GuestMemory& mem, GuestWork& work) = 0;
  /// The device returned `bufs` holding one frame of `frame_len` bytes:
  /// build the skb (copies, page attachments) and release or recycle memory.
  virtual void receive(std::span<const ReturnedBuffer> bufs, uint32_t frame_len, GuestMemory& mem, GuestWork& work) = 0;
  /// Gives back a posting that was built but could not be added to the ring
  /// (2.6.27 try_fill_recv allocates first and frees when add_buf refuses).
  virtual void release(Posting&& posting, GuestMemory& mem, GuestWork& work) = 0;
  /// The policy's own figures (summary.json `policy.<key>`), counts only:
  /// with several queues each key is summed over them.
  virtual void report(Json& /*out*/) const {}

  /// Takes back a spent posting (its memory already received or released)
  /// for fresh_posting() to reuse its vectors' storage.
  void recycle(Posting&& spent) {
    // A one-buffer posting holds its buffer and block in itself: no storage to lend.
    if (!spent.segs.on_heap() && !spent.blocks.on_heap()) return;
    if (spare_.size() >= kSpares) return;
    spent.segs.clear();
    spent.blocks.clear();
    spent.bytes = 0;
    spare_.push_back(std::move(spent));
  }

 protected:
  /// An empty posting, on the storage of a spent one when there is one: in
  /// steady state a posting allocates nothing (two allocations a packet
  /// otherwise). A policy may also start from `Posting{}`.
  Posting fresh_posting() {
    if (spare_.empty()) return {};
    Posting p = std::move(spare_.back());
    spare_.pop_back();
    return p;
  }

 private:
  static constexpr size_t kSpares = 64;  ///< more than a NAPI poll's worth
  std::vector<Posting> spare_;
};

/// What a policy is built from: the resolved configuration and what the
/// world decided (negotiated features, ring size).
struct PolicyContext {
  const Config& cfg;
  std::string prefix;  ///< "policy.<name>."
  uint64_t seed = 0;
  VirtioSetup virtio;
  uint32_t ring_size = 256;
};

struct PolicyInfo {
  std::string name;
  std::string description;
  /// The receive mode it implements: a scenario whose negotiated features
  /// select another mode cannot name it.
  RxMode mode = RxMode::Mergeable;
  /// Policy "auto" picks this one for its mode (one per mode).
  bool picked_by_auto = false;
  /// Declares the policy's parameters; `prefix` is "policy.<name>.".
  std::function<void(ParamTable&, const std::string& prefix)> declare;
  /// Builds an instance from the resolved configuration.
  std::function<std::unique_ptr<RxPolicy>(const PolicyContext&)> create;
};

/// The policy name that selects by features.
inline constexpr const char* kAutoPolicy = "auto";
/// The policy "auto" picks for `mode`; null if none is registered.
const PolicyInfo* policy_for_mode(RxMode mode);
/// Builds policy `name` (not "auto") for a run.
std::unique_ptr<RxPolicy> make_policy(const std::string& name, const PolicyContext& ctx);

/// The 64 KiB packet of the ring figures: a GSO super-packet of 65535 bytes
/// of IP datagram plus the 14-byte Ethernet header (IP_MAX_MTU + ETH_HLEN).
inline constexpr uint32_t kFrame64k = 65535 + 14;
/// The MTU frame: ETH_HLEN 14 + ETH_DATA_LEN 1500 (no FCS).
inline constexpr uint32_t kFrameMtu = 1514;

/// What the ring holds under a policy, from its nominal posting shape.
struct RingFigures {
  uint32_t size = 0;
  uint64_t ring_bytes = 0;  ///< the layout: vring_size() or 16N + 8
  /// The guest memory the ring's allocations take: whole pages each
  /// (ring_pinned_bytes(); what memory totals add up).
  uint64_t ring_pinned_bytes = 0;
  uint32_t descriptors_per_posting = 0;  ///< ring descriptors (1 with an indirect table)
  uint64_t indirect_table_bytes = 0;     ///< per posting: 16 bytes a buffer, 0 without a table
  uint64_t indirect_table_bytes_full = 0;  ///< the tables of a full ring
  uint64_t bytes_per_posting = 0;
  uint32_t descriptors_per_slot_mtu = 0;
  uint32_t descriptors_per_slot_64k = 0;
  uint32_t capacity_packets_mtu = 0;
  uint32_t capacity_packets_64k = 0;
  uint32_t unusable_descriptors = 0;
  uint64_t bytes_per_slot_mtu = 0;
  uint64_t posted_bytes_full = 0;
  /// Largest frame a full ring can ever take (longer ones are dropped as too large).
  uint64_t max_frame_bytes = 0;
};

/// What the negotiated ring features change in the figures.
struct RingLayout {
  bool event_idx = false;  ///< the ring holds used_event and avail_event (RING_EVENT_IDX)
  bool indirect = false;   ///< a posting of several buffers takes one ring descriptor (RING_INDIRECT_DESC)
  bool packed = false;     ///< the packed ring (RING_PACKED): 16N + 8 bytes
  /// VERSION_1: a modern device, whose split ring is aligned to
  /// SMP_CACHE_BYTES (64) instead of the legacy 4096 (kVringAlignModern).
  bool modern = false;
  uint64_t split_align() const { return modern ? kVringAlignModern : kVringAlign; }
  static RingLayout of(const VirtioSetup& v) { return {v.event_idx(), v.indirect(), v.packed(), v.modern()}; }
};

/// Guest memory a ring pins: vring_alloc_queue() (drivers/virtio/virtio_ring.c)
/// takes alloc_pages_exact(PAGE_ALIGN(size)) or dma_alloc_coherent(), whole
/// pages either way. A split ring is one allocation of vring_size()
/// (vring_alloc_queue_split); a packed ring three: the descriptor ring
/// (16N) and the driver and device event areas (4 bytes each;
/// vring_alloc_queue_packed). 256 entries: split 6,726 -> 8 KiB (10,246 ->
/// 12 KiB with the legacy alignment), packed 4096 + 4 + 4 -> 12 KiB.
uint64_t ring_pinned_bytes(uint32_t ring_size, RingLayout layout);

RingFigures ring_figures(uint32_t ring_size, RingLayout layout, bool mergeable, uint32_t header_bytes,
                         const std::vector<uint32_t>& posting);
/// The figures of a policy: the MTU ones (and the memory ones) from its
/// posting for a stream of MTU frames, the 64 KiB ones from its posting for
/// a stream of 64 KiB packets (they differ only for a policy that adapts).
RingFigures ring_figures(uint32_t ring_size, RingLayout layout, const RxPolicy& policy);

}  // namespace vringsim

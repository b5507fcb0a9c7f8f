// mergeable (VIRTIO_NET_F_MRG_RXBUF, Herbert Xu and Mark McLoughlin, 2008):
// the device spreads a frame over as many posted buffers as it needs and
// writes their number into the 12-byte header (virtio_net_hdr_mrg_rxbuf).
// The guest copies the first GOOD_COPY_LEN bytes into the skb head and
// attaches the rest as fragments.
//
// How big a buffer is has changed three times (policy.mergeable.sizing):
//   page  one page per buffer (the 2008 patch, until 3.12);
//   mtu   MERGE_BUFFER_LEN = ALIGN(hdr + 1518, 64) = 1536 bytes carved from
//         a 32 KiB page_frag (3.13);
//   ewma  ALIGN(hdr + clamp(avg, min_buf_len, PAGE_SIZE - hdr), 64) from the
//         page_frag, avg an EWMA (weight 1/64) of received packet lengths;
//         the frag's tail too short for another buffer goes to the current
//         one (3.14 to today). With XDP every buffer is PAGE_SIZE - room.
// In premapped mode (guest.rx_premapped; 6.10, and 6.13 on) the driver maps
// each frag for DMA itself and keeps the mapping's record, struct
// virtnet_rq_dma (16 bytes), at the head of the frag (virtnet_rq_alloc).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "models/policies/page_list.hpp"
#include "sim/core/policy.hpp"

namespace vringsim {

enum class MergeableSizing : uint8_t { Page, Mtu, Ewma };

struct MergeableConfig {
  uint32_t copy_break_bytes = 128;
  bool recycle_pages = true;
  MergeableSizing sizing = MergeableSizing::Page;
  uint32_t header_bytes = 12;
  uint32_t ring_size = 256;
  uint32_t max_mtu = 65535;     ///< dev->max_mtu: MAX_MTU, or the MTU feature's value
  bool big_packets = false;     ///< vi->big_packets (guest GSO): min_buf_len sized for IP_MAX_MTU
  bool xdp = false;             ///< an XDP program is attached: headroom and tailroom per buffer
  double frag_order_failure_prob = 0;  ///< the order-3 frag allocation fails (falls back to one page)
  bool premapped = false;       ///< rx premapped mode: a struct virtnet_rq_dma heads each frag
};

/// L1_CACHE_BYTES on x86-64.
inline constexpr uint32_t kCacheLine = 64;
/// SKB_DATA_ALIGN(VIRTIO_XDP_HEADROOM 256 + sizeof(struct skb_shared_info) 320).
inline constexpr uint32_t kXdpRoom = 576;
inline constexpr uint32_t kXdpHeadroom = 256;
/// SKB_FRAG_PAGE_ORDER = get_order(32768).
inline constexpr unsigned kFragOrder = 3;
/// sizeof(struct virtnet_rq_dma) {dma_addr_t addr; u32 ref; u16 len; u16 need_sync;}.
inline constexpr uint32_t kRqDmaBytes = 16;

/// Buffers posted, by length (summary.json's buffers_posted_by_bytes): a
/// few lengths (a stream settles on one, and a frag's last buffer on
/// another, with its tail), kept sorted; the last two counted tried first.
class LengthCounts {
 public:
  void add(uint32_t len) {
    const size_t n = counts_.size();
    if (last_ < n && counts_[last_].first == len) [[likely]] {
      ++counts_[last_].second;
      return;
    }
    if (prev_ < n && counts_[prev_].first == len) {
      ++counts_[prev_].second;
      std::swap(last_, prev_);
      return;
    }
    add_slow(len);
  }
  /// (length, buffers) in increasing length.
  const std::vector<std::pair<uint32_t, uint64_t>>& counts() const { return counts_; }

 private:
  void add_slow(uint32_t len);
  std::vector<std::pair<uint32_t, uint64_t>> counts_;
  size_t last_ = SIZE_MAX, prev_ = SIZE_MAX;  ///< indexes of the last two lengths counted
};

class MergeablePolicy : public RxPolicy {
 public:
  explicit MergeablePolicy(const MergeableConfig& c);

  bool mergeable() const override { return true; }
  uint32_t header_bytes() const override { return c_.header_bytes; }
  std::vector<uint32_t> nominal_posting() const override { return {initial_len_}; }
  /// ewma: the buffer the average of a constant stream converges to.
  std::vector<uint32_t> posting_for_stream(uint32_t frame_len) const override;
  /// Frag sizing: carves a long stream's buffers from fresh 32 KiB frags as
  /// make_posting() does (the record of a premapped frag, tails merged) and
  /// counts those one frame takes, starting at a frag's head.
  uint32_t buffers_for_stream_frame(uint32_t frame_len) const override;
  std::optional<Posting> make_posting(GuestMemory& mem, GuestWork& work) override;
  void receive(std::span<const ReturnedBuffer> bufs, uint32_t frame_len, GuestMemory& mem, GuestWork& work) override;
  void release(Posting&& posting, GuestMemory& mem, GuestWork& work) override;
  void report(Json& out) const override;

  /// mergeable_min_buf_len(): the smallest buffer for which a full ring
  /// still holds the largest packet (rq->min_buf_len, set once when the
  /// queues are found: virtnet_find_vqs).
  uint32_t min_buf_len() const { return min_buf_len_; }
  /// get_mergeable_buf_len(): the length of the next buffer.
  uint32_t next_buf_len() const { return buf_len_for(avg_); }
  /// The EWMA of received packet lengths (ewma_pkt_len_read).
  uint64_t average() const { return avg_; }

 private:
  /// A page_frag block some buffer still holds, or the one being carved
  /// (rq->alloc_frag.page). Its buffers' MemoryBlock::tag names its slot.
  struct Frag {
    uint64_t base = 0;
    unsigned order = 0;
    uint32_t refs = 0;  ///< buffers carved from it and not yet freed (the page's refcount, less the frag's own)
  };
  static constexpr uint32_t kNoFrag = UINT32_MAX;
  uint32_t compute_min_buf_len() const;
  /// get_mergeable_buf_len() with the average at `avg`.
  uint32_t buf_len_for(uint64_t avg) const;
  std::optional<Posting> page_posting(GuestMemory& mem, GuestWork& work);
  /// skb_page_frag_refill(): room for `bytes` more in the current frag, or a new one.
  bool frag_refill(uint32_t bytes, GuestMemory& mem, GuestWork& work);
  /// Drops one buffer's reference to the frag in `slot`; the frag is freed
  /// when no buffer holds it and it is no longer the one being carved.
  void put_frag(uint32_t slot, GuestMemory& mem, GuestWork& work);
  /// A slot for a new frag (a freed one first).
  uint32_t new_frag(uint64_t base, unsigned order);
  /// Frees the frag in `slot` to the allocator and the slot for reuse.
  void free_frag(uint32_t slot, GuestMemory& mem, GuestWork& work);

  MergeableConfig c_;
  uint32_t min_buf_len_ = 0;
  uint32_t initial_len_ = kPageBytes;
  PageList pages_;  ///< the driver's private page list (page sizing)
  // page_frag state (mtu, ewma)
  std::vector<Frag> frags_;           ///< by slot: frags some buffer still holds, the current one, freed ones
  std::vector<uint16_t> free_slots_;  ///< slots of freed frags, reused last-in first-out
  uint32_t current_ = kNoFrag;        ///< the slot of the frag being carved
  uint32_t offset_ = 0, size_ = 0;
  uint64_t avg_ = 0;  ///< DECLARE_EWMA(pkt_len, 0, 64)
  // figures
  LengthCounts lengths_;       ///< buffers posted, by length
  uint64_t hole_bytes_ = 0;    ///< frag tails added to a buffer
  uint64_t wasted_bytes_ = 0;  ///< frag tails left unused (no buffer fit)
  uint64_t frags_allocated_ = 0, frag_fallbacks_ = 0;
};

}  // namespace vringsim

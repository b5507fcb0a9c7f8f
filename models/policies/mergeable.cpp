#include "models/policies/mergeable.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/core/bindings.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/settings.hpp"

namespace vringsim {

namespace {
constexpr uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }
/// GOOD_PACKET_LEN = ETH_HLEN + VLAN_HLEN + ETH_DATA_LEN.
constexpr uint32_t kGoodPacketLen = 14 + 4 + 1500;
/// IP_MAX_MTU.
constexpr uint32_t kIpMaxMtu = 65535;
}  // namespace

void LengthCounts::add_slow(uint32_t len) {
  auto it = std::lower_bound(counts_.begin(), counts_.end(), len,
                             [](const std::pair<uint32_t, uint64_t>& e, uint32_t l) { return e.first < l; });
  const auto at = static_cast<size_t>(it - counts_.begin());
  if (it == counts_.end() || it->first != len) {
    counts_.insert(it, {len, 0});
    if (last_ != SIZE_MAX && last_ >= at) ++last_;  // moved up by the insertion
  }
  ++counts_[at].second;
  prev_ = last_;
  last_ = at;
}

MergeablePolicy::MergeablePolicy(const MergeableConfig& c)
    : c_(c), min_buf_len_(compute_min_buf_len()), pages_(c.recycle_pages) {
  switch (c_.sizing) {
    case MergeableSizing::Page: initial_len_ = kPageBytes; break;
    case MergeableSizing::Mtu: initial_len_ = align_up(c_.header_bytes + kGoodPacketLen, kCacheLine); break;
    case MergeableSizing::Ewma: initial_len_ = buf_len_for(0); break;
  }
}

uint32_t MergeablePolicy::compute_min_buf_len() const {
  // mergeable_min_buf_len(): hdr + ETH_HLEN + VLAN_HLEN + the largest packet,
  // spread over the whole ring; never below GOOD_PACKET_LEN.
  const uint32_t packet_len = c_.big_packets ? kIpMaxMtu : c_.max_mtu;
  const uint32_t buf_len = c_.header_bytes + 14 + 4 + packet_len;
  const uint32_t per_entry = (buf_len + c_.ring_size - 1) / c_.ring_size;
  return std::max(std::max(per_entry, c_.header_bytes) - c_.header_bytes, kGoodPacketLen);
}

uint32_t MergeablePolicy::buf_len_for(uint64_t average) const {
  switch (c_.sizing) {
    case MergeableSizing::Page: return kPageBytes;
    case MergeableSizing::Mtu: return initial_len_;
    case MergeableSizing::Ewma: break;
  }
  // get_mergeable_buf_len(): clamp_t(avg, rq->min_buf_len, PAGE_SIZE - hdr_len)
  // as the kernel's clamp computes it (include/linux/minmax.h __clamp, since
  // 2122e2a4efc2, Linux 6.1): val >= hi ? hi : (val <= lo ? lo : val). Rings
  // under 17 entries with guest GSO have lo > hi (min_buf_len 4086 at 16
  // entries): an average below hi then gets min_buf_len, a buffer above
  // the page (4160 bytes at 16 entries, from the 32 KiB frag), one at or
  // above hi gets hi. (std::clamp with lo > hi is undefined.)
  if (c_.xdp) return kPageBytes - kXdpRoom;
  const uint64_t lo = min_buf_len(), hi = kPageBytes - c_.header_bytes;
  const uint64_t avg = average >= hi ? hi : (average <= lo ? lo : average);
  return align_up(c_.header_bytes + static_cast<uint32_t>(avg), kCacheLine);
}

std::vector<uint32_t> MergeablePolicy::posting_for_stream(uint32_t frame_len) const {
  // The first sample sets the average, and a constant stream keeps it there
  // ((63 L + L) >> 6 = L). (Approached from below, the integer EWMA stops
  // where (63 avg + L) >> 6 = avg, i.e. anywhere from L - 63 to L: up to 63
  // bytes short; the clamp hides that for MTU frames and 64 KiB packets.)
  return {c_.sizing == MergeableSizing::Ewma ? buf_len_for(frame_len) : initial_len_};
}

uint32_t MergeablePolicy::buffers_for_stream_frame(uint32_t frame_len) const {
  if (c_.sizing == MergeableSizing::Page) return 0;
  const uint32_t len = posting_for_stream(frame_len).front();
  const uint32_t room = c_.xdp ? kXdpRoom : 0, size = kPageBytes << kFragOrder;
  const uint32_t start = c_.premapped ? kRqDmaBytes : 0;
  const uint64_t need = uint64_t{frame_len} + c_.header_bytes;
  uint64_t got = 0;
  uint32_t n = 0, offset = start;
  while (got < need) {
    if (offset + len + room > size) offset = start;  // the next frag
    uint32_t b = len;
    offset += len + room;
    const uint32_t hole = size - offset;
    if (c_.sizing == MergeableSizing::Ewma && hole < len + room) {
      if (!c_.xdp) b += hole;
      offset = size;
    }
    got += b;
    if (++n > 65536) return 0;  // never reached: a buffer holds at least 1518 bytes
  }
  return n;
}

std::optional<Posting> MergeablePolicy::page_posting(GuestMemory& mem, GuestWork& work) {
  const auto a = pages_.take(mem, work);
  if (!a) return std::nullopt;
  const uint64_t addr = *a;
  Posting p = fresh_posting();
  p.segs.push_back({addr, kPageBytes});
  p.blocks.push_back({addr, 0, false});
  p.bytes = kPageBytes;
  lengths_.add(kPageBytes);
  return p;
}

uint32_t MergeablePolicy::new_frag(uint64_t base, unsigned order) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    // One frag per buffer at most, and the current one: never past a
    // ring's 32,768 entries and one.
    ensure(frags_.size() <= UINT16_MAX, "more page_frag blocks held than MemoryBlock::tag can name");
    slot = static_cast<uint32_t>(frags_.size());
    frags_.emplace_back();
  }
  frags_[slot] = Frag{base, order, 0};
  return slot;
}

void MergeablePolicy::free_frag(uint32_t slot, GuestMemory& mem, GuestWork& work) {
  const Frag& f = frags_[slot];
  mem.free_pages(f.base, f.order);
  ++work.page_frees;
  free_slots_.push_back(static_cast<uint16_t>(slot));
}

bool MergeablePolicy::frag_refill(uint32_t bytes, GuestMemory& mem, GuestWork& work) {
  // skb_page_frag_refill() (net/core/sock.c), on rq->alloc_frag.
  if (current_ != kNoFrag) {
    // page_ref_count(page) == 1: no buffer holds the frag any more; start
    // over. Premapped, the dma record holds a reference to the frag it is
    // in until the next frag is started (virtnet_rq_alloc: get_page, and
    // virtnet_rq_unmap of rq->last_dma then): never 1 while it is current.
    const bool unheld = frags_[current_].refs == 0;
    if (unheld && !c_.premapped) offset_ = 0;
    if (offset_ + bytes <= size_) return true;
    // The current frag's tail is too short: it is left unused (put_page of
    // the frag's own reference frees it if no buffer holds it).
    wasted_bytes_ += size_ - offset_;
    const uint32_t old = std::exchange(current_, kNoFrag);
    if (unheld) free_frag(old, mem, work);
  }
  // An order-3 block without reclaim, else one page (skb_page_frag_refill).
  ++work.page_allocs;
  unsigned order = kFragOrder;
  auto a = mem.alloc_pages(kFragOrder, c_.frag_order_failure_prob);
  if (!a) {
    ++frag_fallbacks_;
    ++work.page_allocs;
    order = 0;
    a = mem.alloc_pages(0);
    if (!a) return false;
  }
  current_ = new_frag(*a, order);
  offset_ = 0;
  size_ = kPageBytes << order;
  ++frags_allocated_;
  return bytes <= size_;
}

std::optional<Posting> MergeablePolicy::make_posting(GuestMemory& mem, GuestWork& work) {
  if (c_.sizing == MergeableSizing::Page) return page_posting(mem, work);
  // add_recvbuf_mergeable()
  uint32_t len = next_buf_len();
  const uint32_t room = c_.xdp ? kXdpRoom : 0;
  const uint32_t headroom = c_.xdp ? kXdpHeadroom : 0;
  if (!frag_refill(len + room, mem, work)) return std::nullopt;
  if (c_.premapped && offset_ == 0) {
    // A new frag: virtnet_rq_alloc() puts its struct virtnet_rq_dma at the
    // head (alloc_frag->offset = sizeof(*dma)). A buffer that would then
    // overrun the frag (a one-page frag) is cut by the record's size
    // (add_recvbuf_mergeable, 6aacd1484468 "virtio-net: fix overflow
    // inside virtnet_rq_alloc").
    if (len + room + kRqDmaBytes > size_) len -= kRqDmaBytes;
    offset_ = kRqDmaBytes;
  }
  ++work.frag_carves;
  Frag& frag = frags_[current_];
  const uint64_t addr = frag.base + offset_ + headroom;
  ++frag.refs;  // get_page(alloc_frag->page): the buffer's reference
  offset_ += len + room;
  const uint32_t hole = size_ - offset_;
  if (c_.sizing == MergeableSizing::Ewma && hole < len + room) {
    // Too little left for another buffer: it goes with this one (not with
    // XDP, whose frames assume PAGE_SIZE frags).
    if (!headroom) {
      len += hole;
      hole_bytes_ += hole;
    } else {
      wasted_bytes_ += hole;
    }
    offset_ += hole;
  }
  Posting p = fresh_posting();
  p.segs.push_back({addr, len});
  // The buffer's truesize, len + room with any tail it took, goes with it
  // (mergeable_len_to_ctx; receive_mergeable reads it back with
  // mergeable_ctx_to_truesize); the frag's slot goes in the block's tag.
  p.blocks.push_back({.addr = frag.base, .order = frag.order, .slab = false, .tag = static_cast<uint16_t>(current_)});
  p.bytes = len;
  lengths_.add(len);
  return p;
}

void MergeablePolicy::put_frag(uint32_t slot, GuestMemory& mem, GuestWork& work) {
  // put_page() of one buffer's reference: its skb fragment freed, or the
  // buffer given back unused.
  ensure(slot < frags_.size(), "a page_frag buffer from no frag");
  Frag& f = frags_[slot];
  ensure(f.refs > 0, "a page_frag buffer freed twice");
  if (--f.refs > 0 || current_ == slot) return;
  free_frag(slot, mem, work);
}

void MergeablePolicy::receive(std::span<const ReturnedBuffer> bufs, uint32_t frame_len, GuestMemory& mem,
                              GuestWork& work) {
  // receive_mergeable(): copy up to GOOD_COPY_LEN into the skb head; the
  // rest of the buffers become fragments, freed with the skb by the stack.
  work.bytes_copied += std::min(frame_len, c_.copy_break_bytes);
  if (c_.sizing != MergeableSizing::Page) {
    for (const auto& b : bufs) {
      put_frag(b.posting->blocks.front().tag, mem, work);
      b.posting->blocks.clear();
    }
    if (c_.sizing == MergeableSizing::Ewma) {
      // ewma_pkt_len_add(&rq->mrg_avg_pkt_len, head_skb->len): weight 1/64, integer.
      avg_ = avg_ ? ((avg_ << 6) - avg_ + frame_len) >> 6 : frame_len;
      ++work.ewma_updates;
    }
    return;
  }
  // 2008: a frame that fit in the skb head gives its page back.
  for (size_t i = 0; i < bufs.size(); ++i) {
    const MemoryBlock& b = bufs[i].posting->blocks.front();
    if (i == 0 && frame_len <= c_.copy_break_bytes) {
      pages_.give(b.addr, mem, work);
    } else {
      mem.free_pages(b.addr, 0);
      ++work.page_frees;
    }
    bufs[i].posting->blocks.clear();
  }
}

void MergeablePolicy::release(Posting&& posting, GuestMemory& mem, GuestWork& work) {
  for (const auto& b : posting.blocks) {
    if (c_.sizing == MergeableSizing::Page)
      pages_.give(b.addr, mem, work);
    else
      put_frag(b.tag, mem, work);
  }
  posting.blocks.clear();
}

void MergeablePolicy::report(Json& out) const {
  Json& m = out["mergeable"];
  m = Json::object();  // an object even when nothing was posted: the run sums queues' reports key by key
  for (const auto& [len, n] : lengths_.counts()) m["buffers_posted_by_bytes"][std::to_string(len)] = n;
  if (c_.sizing == MergeableSizing::Page) return;
  m["frag_tail_bytes_added"] = hole_bytes_;
  m["frag_tail_bytes_unused"] = wasted_bytes_;
  m["frags_allocated"] = frags_allocated_;
  m["frag_order0_fallbacks"] = frag_fallbacks_;
}

namespace {

struct MergeableSettings {
  uint32_t copy_break_bytes = 128;
  bool recycle_pages = true;
  std::string sizing = "page";
};

const Bindings<MergeableSettings>& mergeable_bindings() {
  using S = MergeableSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::copy_break_bytes,
                ParamSpec::integer("copy_break_bytes", 128, "bytes")
                    .range(0, 65536)
                    .help("bytes copied into the skb head; the rest of the frame stays in pages attached as fragments")
                    .from("GOOD_COPY_LEN = 128, drivers/net/virtio_net.c"))
          .bind(&S::recycle_pages,
                ParamSpec::boolean("recycle_pages", true)
                    .help("page sizing: give the page of a frame that fit in the skb head back to the driver's "
                          "private list")
                    .from("2008 receive_mergeable() gives such pages back with give_a_page()"))
          .bind(&S::sizing, ParamSpec::string("sizing", "page", {"page", "mtu", "ewma"})
                                .help("buffer size: page (one 4096-byte page each, 2008-3.12), mtu (1536 bytes "
                                      "from a 32 KiB page_frag, 3.13), ewma (an EWMA of packet lengths, clamped "
                                      "to min_buf_len..PAGE_SIZE-hdr, from the page_frag, 3.14 to today)")
                                .from("page: the 2008 patch; linux-6.x sets ewma"));
  return b;
}

MergeableSizing sizing_of(const std::string& s) {
  if (s == "mtu") return MergeableSizing::Mtu;
  if (s == "ewma") return MergeableSizing::Ewma;
  return MergeableSizing::Page;
}

const Registrar<PolicyInfo> kRegisteredMergeable{PolicyInfo{
    "mergeable", "VIRTIO_NET_F_MRG_RXBUF: one buffer per descriptor (a page, or page_frag-carved by sizing), frames "
                 "spread over as many as they need",
    RxMode::Mergeable, true,
    [](ParamTable& t, const std::string& prefix) { mergeable_bindings().declare(t, prefix); },
    [](const PolicyContext& c) -> std::unique_ptr<RxPolicy> {
      const MergeableSettings m = mergeable_bindings().load(c.cfg, c.prefix);
      const DriverSettings d = DriverSettings::bindings().load(c.cfg);
      MergeableConfig mc;
      mc.copy_break_bytes = m.copy_break_bytes;
      mc.recycle_pages = m.recycle_pages;
      mc.sizing = sizing_of(m.sizing);
      mc.header_bytes = c.virtio.header_bytes;
      mc.ring_size = c.ring_size;
      mc.max_mtu = has(c.virtio.negotiated, Feature::MTU) ? c.virtio.mtu : 65535;
      mc.big_packets = c.virtio.guest_gso() || c.virtio.mtu > 1500;
      mc.xdp = d.xdp_attached();
      mc.frag_order_failure_prob = d.frag_order_failure_prob;
      mc.premapped = d.rx_premapped;
      return std::make_unique<MergeablePolicy>(mc);
    }}};

}  // namespace
}  // namespace vringsim

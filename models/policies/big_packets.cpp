// big-packets: today's big-packets receive mode (Linux add_recvbuf_big,
// drivers/net/virtio_net.c), used when MRG_RXBUF is not negotiated but guest
// GSO is, or the MTU is above 1500. Each posting is one chain of
// big_packets_num_skbfrags + 2 buffers over num_skbfrags + 1 pages:
//   sg[0]  the virtio-net header, at the start of the first page;
//   sg[1]  the rest of that page after struct padded_vnet_hdr (32 bytes);
//   sg[2..] one whole page each.
// num_skbfrags is MAX_SKB_FRAGS (guest.max_skb_frags, 17 by default) with
// guest GSO, DIV_ROUND_UP(mtu, PAGE_SIZE) without. With RING_INDIRECT_DESC
// the ring code puts the chain in an indirect table (one ring slot); without
// it a 256-entry ring holds 13 chains of 19. Pages a frame did not reach go
// back to the driver's page list (give_pages) and are posted again.
#include <algorithm>

#include "models/policies/page_list.hpp"
#include "sim/core/bindings.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/settings.hpp"

namespace vringsim {
namespace {

/// sizeof(struct padded_vnet_hdr) in Linux 6.x: virtio_net_hdr_v1_hash (20) + 12 bytes of padding.
constexpr uint32_t kPaddedHdr = 32;
/// GOOD_COPY_LEN: bytes page_to_skb copies into the skb head.
constexpr uint32_t kCopyBreak = 128;

class BigPackets : public RxPolicy {
 public:
  BigPackets(uint32_t header_bytes, uint32_t frags, bool recycle)
      : header_(header_bytes), frags_(frags), pages_(recycle) {}

  bool mergeable() const override { return false; }
  uint32_t header_bytes() const override { return header_; }
  std::vector<uint32_t> nominal_posting() const override {
    std::vector<uint32_t> lens{header_, kPageBytes - kPaddedHdr};
    lens.insert(lens.end(), frags_, kPageBytes);
    return lens;
  }

  std::optional<Posting> make_posting(GuestMemory& mem, GuestWork& work) override {
    Posting p = fresh_posting();
    p.blocks.reserve(frags_ + 1);  // sized once, not grown a push at a time
    p.segs.reserve(frags_ + 2);
    for (uint32_t i = 0; i < frags_ + 1; ++i) {
      auto a = pages_.take(mem, work);
      if (!a) {
        release(std::move(p), mem, work);
        return std::nullopt;
      }
      p.blocks.push_back({*a, 0, false});
    }
    const uint64_t first = p.blocks.front().addr;
    p.segs.push_back({first, header_});
    p.segs.push_back({first + kPaddedHdr, kPageBytes - kPaddedHdr});
    for (uint32_t i = 1; i <= frags_; ++i) p.segs.push_back({p.blocks[i].addr, kPageBytes});
    for (const auto& s : p.segs) p.bytes += s.len;
    return p;
  }

  void receive(std::span<const ReturnedBuffer> bufs, uint32_t frame_len, GuestMemory& mem,
               GuestWork& work) override {
    // receive_big() -> page_to_skb(): the head copies up to GOOD_COPY_LEN;
    // pages the frame reached go up with the skb (freed by the stack), the
    // rest go back to the page list. A frame that fit in the copy gives its
    // first page back too.
    work.bytes_copied += std::min(frame_len, kCopyBreak);
    for (const ReturnedBuffer& rb : bufs) {
      Posting& p = *rb.posting;
      // Page i holds bytes [start_i, start_i + len_i) of what the device wrote.
      uint64_t reach = rb.written;
      for (size_t i = 0; i < p.blocks.size(); ++i) {
        const uint64_t start = i == 0 ? 0 : header_ + (kPageBytes - kPaddedHdr) + (i - 1) * uint64_t{kPageBytes};
        const bool used = i == 0 ? frame_len > kCopyBreak : reach > start;
        if (used) {
          mem.free_pages(p.blocks[i].addr, 0);
          ++work.page_frees;
        } else {
          pages_.give(p.blocks[i].addr, mem, work);
        }
      }
      p.blocks.clear();
    }
  }

  void release(Posting&& posting, GuestMemory& mem, GuestWork& work) override {
    for (const auto& b : posting.blocks) pages_.give(b.addr, mem, work);
    posting.blocks.clear();
  }

  void report(Json& out) const override { out["big-packets"]["pages_on_list"] = pages_.size(); }

 private:
  uint32_t header_;
  uint32_t frags_;
  PageList pages_;  ///< rq->pages
};

struct BigPacketsSettings {
  bool recycle_pages = true;
};
const Bindings<BigPacketsSettings>& big_packets_bindings() {
  static const Bindings<BigPacketsSettings> b = Bindings<BigPacketsSettings>{}.bind(
      &BigPacketsSettings::recycle_pages,
      ParamSpec::boolean("recycle_pages", true)
          .help("pages a frame did not reach go back to the driver's page list (give_pages) and are posted "
                "again; false: freed and allocated afresh")
          .from("Linux: receive_big() always gives them back"));
  return b;
}

const Registrar<PolicyInfo> kRegisteredBigPackets{PolicyInfo{
    "big-packets",
    "today's big packets (add_recvbuf_big): header + rest of a page + MAX_SKB_FRAGS pages, 19 buffers; one ring "
    "slot with RING_INDIRECT_DESC",
    RxMode::Big, true, [](ParamTable& t, const std::string& prefix) { big_packets_bindings().declare(t, prefix); },
    [](const PolicyContext& c) -> std::unique_ptr<RxPolicy> {
      const DriverSettings d = DriverSettings::bindings().load(c.cfg);
      // virtnet_set_big_packets(): MAX_SKB_FRAGS with guest GSO, else enough pages for the MTU.
      const uint32_t frags = c.virtio.guest_gso() ? d.max_skb_frags : (c.virtio.mtu + kPageBytes - 1) / kPageBytes;
      return std::make_unique<BigPackets>(c.virtio.header_bytes, frags,
                                          big_packets_bindings().load(c.cfg, c.prefix).recycle_pages);
    }}};

}  // namespace
}  // namespace vringsim

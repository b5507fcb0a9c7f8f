// mergeable (VIRTIO_NET_F_MRG_RXBUF, Herbert Xu and Mark McLoughlin, 2008):
// every posting is one page-sized buffer; the device spreads a frame over as
// many as it needs and writes their number into the 12-byte header
// (virtio_net_hdr_mrg_rxbuf). The guest copies the first GOOD_COPY_LEN bytes
// into the skb head and attaches the rest of the pages as fragments.
#pragma once

#include <vector>

#include "sim/core/policy.hpp"

namespace vringsim {

class MergeablePolicy : public RxPolicy {
 public:
  MergeablePolicy(uint32_t copy_break_bytes, bool recycle_pages)
      : copy_break_(copy_break_bytes), recycle_(recycle_pages) {}

  bool mergeable() const override { return true; }
  /// sizeof(struct virtio_net_hdr_mrg_rxbuf): the 10-byte header + num_buffers (u16).
  uint32_t header_bytes() const override { return 12; }
  std::vector<uint32_t> nominal_posting() const override { return {kPageBytes}; }
  std::optional<Posting> make_posting(GuestMemory& mem, GuestWork& work) override;
  void receive(std::span<const ReturnedBuffer> bufs, uint32_t frame_len, GuestMemory& mem, GuestWork& work) override;
  void release(Posting&& posting, GuestMemory& mem, GuestWork& work) override;

 private:
  void put_page(uint64_t addr, GuestMemory& mem, GuestWork& work);

  uint32_t copy_break_;
  bool recycle_;
  std::vector<uint64_t> recycled_;
};

}  // namespace vringsim

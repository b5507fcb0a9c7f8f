// The "big packets" family of receive-buffer layouts (docs/model.md §2): every
// posting is one descriptor chain that can hold a whole frame: the virtio-net
// header, a linear skb buffer, then page chunks for the rest. small,
// max-buffer, larger-ring, hdr-in-data and coalesced are this one mechanism
// with different shapes; each registers itself from its own file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/policies/page_list.hpp"
#include "sim/core/bindings.hpp"
#include "sim/core/params.hpp"
#include "sim/core/policy.hpp"

namespace vringsim {

struct ChainShape {
  uint32_t header_bytes = 10;     ///< sizeof(struct virtio_net_hdr), include/uapi/linux/virtio_net.h
  bool header_in_data = false;    ///< header at the head of the linear buffer (one descriptor fewer)
  uint32_t linear_bytes = 1514;   ///< MAX_PACKET_LEN = ETH_HLEN + ETH_DATA_LEN (2.6.27 virtio_net.c)
  uint32_t data_bytes = 0;        ///< bytes of page chunks after the linear buffer
  unsigned chunk_order = 0;       ///< chunks of 2^order pages
  double order_failure_prob = 0;  ///< a higher-order chunk allocation fails, falls back to order-0 pages
  bool recycle_pages = false;     ///< give_a_page()/get_a_page() private list (Linux fb6813f48080)
};

/// The 2008 big-packets chain: header + 1514-byte buffer + MAX_SKB_FRAGS =
/// 65536 / PAGE_SIZE + 2 = 18 pages (include/linux/skbuff.h in 2008): 20
/// descriptors. max-buffer and larger-ring both post it.
ChainShape max_buffer_shape(bool recycle_pages, uint32_t header_bytes);

class BigChainPolicy : public RxPolicy {
 public:
  explicit BigChainPolicy(ChainShape shape) : shape_(shape), pages_(shape.recycle_pages) {}

  bool mergeable() const override { return false; }
  uint32_t header_bytes() const override { return shape_.header_bytes; }
  std::vector<uint32_t> nominal_posting() const override;
  std::optional<Posting> make_posting(GuestMemory& mem, GuestWork& work) override;
  void receive(std::span<const ReturnedBuffer> bufs, uint32_t frame_len, GuestMemory& mem, GuestWork& work) override;
  void release(Posting&& posting, GuestMemory& mem, GuestWork& work) override;

  /// The family's shared parameter, bound to ChainShape::recycle_pages
  /// (declared under each policy's prefix, "policy.<name>.recycle_pages").
  static Bindings<ChainShape> recycle_binding();

 private:
  uint32_t chunk_bytes() const { return kPageBytes << shape_.chunk_order; }
  uint32_t chunk_count() const { return (shape_.data_bytes + chunk_bytes() - 1) / chunk_bytes(); }
  void put_block(const MemoryBlock& b, GuestMemory& mem, GuestWork& work);
  /// Pages make_posting takes from the private list as one run, at most (the
  /// 2008 chain's 18; longer chains take theirs one by one).
  static constexpr uint32_t kMaxRunPages = 64;

  ChainShape shape_;
  PageList pages_;  ///< the driver's private page list
};

}  // namespace vringsim

// small: receive buffers without GSO (docs/model.md §6). Frames above the
// MTU never fit and are dropped as too large.
//  - 2008 (2.6.27 add_recvbuf): the 10-byte header and one 1514-byte buffer
//    (MAX_PACKET_LEN) as two descriptors.
//  - today (a modern device, VERSION_1): one buffer, header included, of
//    hdr_len + GOOD_PACKET_LEN = 12 + 1518 bytes (drivers/net/virtio_net.c
//    add_recvbuf_small: virtnet_rq_init_one_sg(rq, buf, vi->hdr_len +
//    GOOD_PACKET_LEN), one sg); the skb is built around it (build_skb).
//    One buffer never takes an indirect table (virtqueue_add_split: total_sg > 1).
#include "models/policies/big_chain.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<PolicyInfo> kRegisteredSmall{PolicyInfo{
    "small", "small-packet mode: 2008, header + one 1514-byte buffer (2 descriptors); with VERSION_1 (today), one "
             "buffer of header + GOOD_PACKET_LEN 1518; no frames above the MTU",
    RxMode::Small, true, nullptr,
    [](const PolicyContext& c) -> std::unique_ptr<RxPolicy> {
      ChainShape s;
      s.header_bytes = c.virtio.header_bytes;
      if (c.virtio.modern()) {
        s.header_in_data = true;
        s.linear_bytes = 14 + 4 + 1500;  // GOOD_PACKET_LEN = ETH_HLEN + VLAN_HLEN + ETH_DATA_LEN
      }
      return std::make_unique<BigChainPolicy>(s);
    }}};

}  // namespace
}  // namespace vringsim

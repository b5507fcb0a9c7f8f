// small: the 2008 layout without GSO: the 10-byte header and one 1514-byte
// buffer (MAX_PACKET_LEN) as two descriptors (docs/model.md §6). Frames above the
// MTU never fit and are dropped as too large.
#include "models/policies/big_chain.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<PolicyInfo> kRegistered{PolicyInfo{
    "small", "2008 small-packet mode: header + one 1514-byte buffer (2 descriptors); no frames above the MTU",
    RxMode::Small, true, nullptr,
    [](const PolicyContext& c) -> std::unique_ptr<RxPolicy> {
      ChainShape s;
      s.header_bytes = c.virtio.header_bytes;
      return std::make_unique<BigChainPolicy>(s);
    }}};

}  // namespace
}  // namespace vringsim

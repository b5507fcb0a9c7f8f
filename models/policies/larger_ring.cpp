// larger-ring (Rusty Russell's first alternative, 2008): keep max-buffer's
// 20-descriptor chains and grow the ring so it holds more of them. The chain
// is max-buffer's; what differs is the ring the scenario gives it (the
// thread's example: 4096 entries, 204 slots, 15,351,408 bytes posted).
#include "models/policies/big_chain.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<PolicyInfo> kRegisteredLargerRing{
    PolicyInfo{"larger-ring", "max-buffer's 20-descriptor chains in a larger ring (the 2008 thread's 4096 entries)",
               RxMode::Big, false,
               [](ParamTable& t, const std::string& prefix) { BigChainPolicy::recycle_binding().declare(t, prefix); },
               [](const PolicyContext& c) -> std::unique_ptr<RxPolicy> {
                 return std::make_unique<BigChainPolicy>(BigChainPolicy::recycle_binding().load(
                     c.cfg, c.prefix, max_buffer_shape(true, c.virtio.header_bytes)));
               }}};

}  // namespace
}  // namespace vringsim

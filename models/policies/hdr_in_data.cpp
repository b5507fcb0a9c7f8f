// hdr-in-data (Rusty Russell's second alternative, 2008): the header sits at
// the head of the linear buffer (one descriptor of 10 + 1514 bytes) and the
// page part holds exactly 64 KiB (16 pages, without MAX_SKB_FRAGS' +2):
// 17 descriptors per slot, 15 slots in a 256-entry ring (docs/model.md §2).
#include "models/policies/big_chain.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<PolicyInfo> kRegisteredHdrInData{
    PolicyInfo{"hdr-in-data", "header inside the linear buffer, exactly 16 pages for 64 KiB: 17 descriptors per slot",
               RxMode::Big, false,
               [](ParamTable& t, const std::string& prefix) { BigChainPolicy::recycle_binding().declare(t, prefix); },
               [](const PolicyContext& c) -> std::unique_ptr<RxPolicy> {
                 ChainShape s;
                 s.header_bytes = c.virtio.header_bytes;
                 s.header_in_data = true;
                 s.data_bytes = 65536;
                 return std::make_unique<BigChainPolicy>(BigChainPolicy::recycle_binding().load(c.cfg, c.prefix, s));
               }}};

}  // namespace
}  // namespace vringsim

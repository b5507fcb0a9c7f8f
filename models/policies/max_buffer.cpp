// max-buffer ("big packets", 2008): every slot can take a 64 KiB GSO frame:
// header + 1514-byte linear buffer + MAX_SKB_FRAGS = 18 pages, a chain of 20
// descriptors (docs/model.md §2).
#include "models/policies/big_chain.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Registrar<PolicyInfo> kRegisteredMaxBuffer{PolicyInfo{
    "max-buffer",
    "2008 big packets: header + 1514-byte buffer + 18 pages per slot (20 descriptors), unused pages recycled",
    RxMode::Big, false,
    [](ParamTable& t, const std::string& prefix) { BigChainPolicy::recycle_binding().declare(t, prefix); },
    [](const PolicyContext& c) -> std::unique_ptr<RxPolicy> {
      return std::make_unique<BigChainPolicy>(
          BigChainPolicy::recycle_binding().load(c.cfg, c.prefix, max_buffer_shape(true, c.virtio.header_bytes)));
    }}};

}  // namespace
}  // namespace vringsim

// max-buffer ("big packets", 2008): every slot can take a 64 KiB GSO frame:
// header + 1514-byte linear buffer + MAX_SKB_FRAGS = 18 pages, a chain of 20
// descriptors (MODEL.md §2).
#include "models/policies/big_chain.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

/// MAX_SKB_FRAGS in 2008: 65536 / PAGE_SIZE + 2 (include/linux/skbuff.h).
constexpr uint32_t kMaxSkbFrags2008 = 65536 / kPageBytes + 2;

const Registrar<PolicyInfo> kRegistered{PolicyInfo{
    "max-buffer",
    "2008 big packets: header + 1514-byte buffer + 18 pages per slot (20 descriptors), unused pages recycled",
    [](ParamTable& t, const std::string& prefix) { BigChainPolicy::declare_recycle(t, prefix, true); },
    [](const Config& cfg, const std::string& prefix, uint64_t) -> std::unique_ptr<RxPolicy> {
      ChainShape s;
      s.data_bytes = kMaxSkbFrags2008 * kPageBytes;
      s.recycle_pages = cfg.flag(prefix + "recycle_pages");
      return std::make_unique<BigChainPolicy>(s);
    }}};

}  // namespace
}  // namespace vringsim

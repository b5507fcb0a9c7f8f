// coalesced / higher-order (Rusty Russell's third alternative, 2008): build
// the 64 KiB part of a slot from fewer, physically contiguous chunks of order
// k: header + 1514-byte buffer + ceil(65536 / (4096 * 2^k)) chunks. k = 2
// gives 4 chunks of 16 KiB, 6 descriptors per slot, 42 slots in 256
// (docs/model.md §2). Under fragmentation a chunk allocation fails with a given
// probability and that chunk falls back to order-0 pages (a longer chain).
#include "models/policies/big_chain.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

const Bindings<ChainShape>& coalesced_bindings() {
  static const Bindings<ChainShape> b =
      BigChainPolicy::recycle_binding()
          .bind(&ChainShape::chunk_order, ParamSpec::integer("order", 2, "log2 pages")
                                              .range(0, 10)
                                              .help("page order of each chunk: chunks of 4096 * 2^order bytes")
                                              .from("docs/model.md §2: the thread's example, k = 2"))
          .bind(&ChainShape::order_failure_prob,
                ParamSpec::number("order_failure_prob", 0.0, "probability")
                    .range(0, 1)
                    .help("probability that one higher-order allocation fails (fragmentation); the chunk is then "
                          "built from order-0 pages")
                    .from("0: unfragmented memory"));
  return b;
}

const Registrar<PolicyInfo> kRegisteredCoalesced{PolicyInfo{
    "coalesced",
    "64 KiB part from order-k chunks (k=2: 4 x 16 KiB, 6 descriptors per slot); failed chunks fall back to pages",
    RxMode::Big, false,
    [](ParamTable& t, const std::string& prefix) { coalesced_bindings().declare(t, prefix); },
    [](const PolicyContext& c) -> std::unique_ptr<RxPolicy> {
      ChainShape s;
      s.header_bytes = c.virtio.header_bytes;
      s.data_bytes = 65536;
      return std::make_unique<BigChainPolicy>(coalesced_bindings().load(c.cfg, c.prefix, s));
    }}};

}  // namespace
}  // namespace vringsim

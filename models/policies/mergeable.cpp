#include "models/policies/mergeable.hpp"

#include <algorithm>

#include "sim/core/bindings.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {

std::optional<Posting> MergeablePolicy::make_posting(GuestMemory& mem, GuestWork& work) {
  uint64_t addr;
  if (recycle_ && !recycled_.empty()) {
    addr = recycled_.back();
    recycled_.pop_back();
    ++work.page_recycles;
  } else {
    ++work.page_allocs;
    auto a = mem.alloc_pages(0);
    if (!a) return std::nullopt;
    addr = *a;
  }
  Posting p;
  p.segs.push_back({addr, kPageBytes});
  p.blocks.push_back({addr, 0, false});
  p.bytes = kPageBytes;
  return p;
}

void MergeablePolicy::put_page(uint64_t addr, GuestMemory& mem, GuestWork& work) {
  if (recycle_) {
    recycled_.push_back(addr);
    ++work.page_recycles;
  } else {
    mem.free_pages(addr, 0);
    ++work.page_frees;
  }
}

void MergeablePolicy::receive(std::span<const ReturnedBuffer> bufs, uint32_t frame_len, GuestMemory& mem,
                              GuestWork& work) {
  // receive_mergeable(): copy up to GOOD_COPY_LEN into the skb head; a frame
  // that fits there gives its page back, otherwise every page becomes a
  // fragment and is freed with the skb by the stack.
  work.bytes_copied += std::min(frame_len, copy_break_);
  for (size_t i = 0; i < bufs.size(); ++i) {
    const MemoryBlock& b = bufs[i].posting->blocks.front();
    if (i == 0 && frame_len <= copy_break_) {
      put_page(b.addr, mem, work);
    } else {
      mem.free_pages(b.addr, 0);
      ++work.page_frees;
    }
    bufs[i].posting->blocks.clear();
  }
}

void MergeablePolicy::release(Posting&& posting, GuestMemory& mem, GuestWork& work) {
  for (const auto& b : posting.blocks) put_page(b.addr, mem, work);
  posting.blocks.clear();
}

namespace {

struct MergeableSettings {
  uint32_t copy_break_bytes = 128;
  bool recycle_pages = true;
};

const Bindings<MergeableSettings>& bindings() {
  using S = MergeableSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::copy_break_bytes,
                ParamSpec::integer("copy_break_bytes", 128, "bytes")
                    .range(0, 65536)
                    .help("bytes copied into the skb head; the rest of the frame stays in pages attached as fragments")
                    .from("GOOD_COPY_LEN = 128, drivers/net/virtio_net.c"))
          .bind(&S::recycle_pages,
                ParamSpec::boolean("recycle_pages", true)
                    .help("give the page of a frame that fit in the skb head back to the driver's private list")
                    .from("2008 receive_mergeable() gives such pages back with give_a_page()"));
  return b;
}

const Registrar<PolicyInfo> kRegistered{PolicyInfo{
    "mergeable", "VIRTIO_NET_F_MRG_RXBUF: one page per descriptor, frames spread over ceil((len+12)/4096) buffers",
    [](ParamTable& t, const std::string& prefix) { bindings().declare(t, prefix); },
    [](const Config& cfg, const std::string& prefix, uint64_t) -> std::unique_ptr<RxPolicy> {
      const MergeableSettings m = bindings().load(cfg, prefix);
      return std::make_unique<MergeablePolicy>(m.copy_break_bytes, m.recycle_pages);
    }}};

}  // namespace
}  // namespace vringsim

#include "sim/core/policy.hpp"

#include <numeric>

#include "sim/core/packed_ring.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/split_ring.hpp"

namespace vringsim {

const PolicyInfo* policy_for_mode(RxMode mode) {
  for (const PolicyInfo* p : Registry<PolicyInfo>::instance().all())
    if (p->mode == mode && p->picked_by_auto) return p;
  return nullptr;
}

std::unique_ptr<RxPolicy> make_policy(const std::string& name, const PolicyContext& ctx) {
  const PolicyInfo* info = Registry<PolicyInfo>::instance().find(name);
  ensure(info != nullptr, "no policy \"" + name + "\"");
  PolicyContext c = ctx;
  c.prefix = "policy." + name + ".";
  return info->create(c);
}

namespace {
constexpr uint64_t page_align(uint64_t bytes) { return (bytes + kPageBytes - 1) / kPageBytes * kPageBytes; }
}  // namespace

uint64_t ring_pinned_bytes(uint32_t ring_size, RingLayout layout) {
  if (layout.packed)  // sizeof(struct vring_packed_desc_event) = 4, twice
    return page_align(uint64_t{kDescriptorBytes} * ring_size) + 2 * page_align(4);
  return page_align(vring_size(ring_size, layout.event_idx, layout.split_align()));
}

RingFigures ring_figures(uint32_t ring_size, RingLayout layout, bool mergeable, uint32_t header_bytes,
                         const std::vector<uint32_t>& posting) {
  RingFigures f;
  f.size = ring_size;
  f.ring_bytes =
      layout.packed ? packed_ring_size(ring_size) : vring_size(ring_size, layout.event_idx, layout.split_align());
  f.ring_pinned_bytes = ring_pinned_bytes(ring_size, layout);
  const bool table = layout.indirect && posting.size() > 1;  // virtqueue_add_split/_packed: total_sg > 1
  f.descriptors_per_posting = table ? 1 : static_cast<uint32_t>(posting.size());
  f.indirect_table_bytes = table ? posting.size() * kDescriptorBytes : 0;
  f.bytes_per_posting = std::accumulate(posting.begin(), posting.end(), uint64_t{0});
  if (posting.empty() || f.bytes_per_posting == 0) return f;
  const uint32_t postings_full = ring_size / f.descriptors_per_posting;
  f.posted_bytes_full = postings_full * f.bytes_per_posting;
  f.indirect_table_bytes_full = postings_full * f.indirect_table_bytes;
  // Postings one frame of `len` bytes needs (0 if it never fits).
  auto postings_for = [&](uint64_t len) -> uint64_t {
    const uint64_t need = len + header_bytes;
    if (!mergeable) return need <= f.bytes_per_posting ? 1 : 0;
    const uint64_t n = (need + f.bytes_per_posting - 1) / f.bytes_per_posting;
    return n <= postings_full ? n : 0;
  };
  const uint64_t p_mtu = postings_for(kFrameMtu);
  const uint64_t p_64k = postings_for(kFrame64k);
  // A slot is what one packet takes; if a frame never fits, report the
  // posting's own length and a capacity of zero.
  f.descriptors_per_slot_mtu = static_cast<uint32_t>((p_mtu ? p_mtu : 1) * f.descriptors_per_posting);
  f.descriptors_per_slot_64k = static_cast<uint32_t>((p_64k ? p_64k : 1) * f.descriptors_per_posting);
  f.capacity_packets_mtu = p_mtu ? ring_size / f.descriptors_per_slot_mtu : 0;
  f.capacity_packets_64k = p_64k ? ring_size / f.descriptors_per_slot_64k : 0;
  f.unusable_descriptors = ring_size - f.capacity_packets_mtu * f.descriptors_per_slot_mtu;
  f.bytes_per_slot_mtu = (p_mtu ? p_mtu : 1) * f.bytes_per_posting;
  const uint64_t writable = mergeable ? f.posted_bytes_full : f.bytes_per_posting;
  f.max_frame_bytes = writable > header_bytes ? writable - header_bytes : 0;
  return f;
}

RingFigures ring_figures(uint32_t ring_size, RingLayout layout, const RxPolicy& policy) {
  const auto mtu = policy.posting_for_stream(kFrameMtu);
  RingFigures f = ring_figures(ring_size, layout, policy.mergeable(), policy.header_bytes(), mtu);
  const auto big = policy.posting_for_stream(kFrame64k);
  if (big != mtu) {
    const RingFigures g = ring_figures(ring_size, layout, policy.mergeable(), policy.header_bytes(), big);
    f.descriptors_per_slot_64k = g.descriptors_per_slot_64k;
    f.capacity_packets_64k = g.capacity_packets_64k;
  }
  if (const uint32_t n = policy.mergeable() ? policy.buffers_for_stream_frame(kFrame64k) : 0) {
    f.descriptors_per_slot_64k = n;  // one descriptor a mergeable buffer
    f.capacity_packets_64k = n <= ring_size ? ring_size / n : 0;
  }
  return f;
}

}  // namespace vringsim

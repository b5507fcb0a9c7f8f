// What the guest did, counted (the cost model turns it into CPU time).
#pragma once

#include <cstdint>

namespace vringsim {

/// Guest work counted by policies and the driver; the cost model turns it
/// into CPU time. Counts only: no policy carries a time constant.
struct GuestWork {
  uint64_t packets = 0;        ///< packets built and handed to the stack
  uint64_t descriptors = 0;    ///< descriptors added to or detached from the ring
  uint64_t bytes_copied = 0;   ///< bytes memcpy'd (copy-break into the skb head)
  uint64_t page_allocs = 0;    ///< calls into the page allocator (any order)
  uint64_t page_frees = 0;     ///< blocks returned to the page allocator
  uint64_t page_recycles = 0;  ///< pages taken from / given to the driver's private list
  uint64_t frag_carves = 0;    ///< buffers carved from a page_frag (get_page + offset)
  uint64_t ewma_updates = 0;   ///< updates of the mergeable buffer-length EWMA
  uint64_t indirect_tables = 0;  ///< indirect tables allocated (kmalloc, freed at detach)
  uint64_t xdp_runs = 0;         ///< frames the attached XDP program ran on
  uint64_t bytes_delivered = 0;  ///< bytes of frames handed to the stack (the reader copies them out)

  GuestWork& operator+=(const GuestWork& o) {
    packets += o.packets;
    descriptors += o.descriptors;
    bytes_copied += o.bytes_copied;
    page_allocs += o.page_allocs;
    page_frees += o.page_frees;
    page_recycles += o.page_recycles;
    frag_carves += o.frag_carves;
    ewma_updates += o.ewma_updates;
    indirect_tables += o.indirect_tables;
    xdp_runs += o.xdp_runs;
    bytes_delivered += o.bytes_delivered;
    return *this;
  }
};

}  // namespace vringsim

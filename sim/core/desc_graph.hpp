// The whole descriptor state as a graph (Boost.Graph), checked independently
// of SplitRing::check_invariants(): descriptors are vertices, each in-use
// descriptor's next link (VRING_DESC_F_NEXT) an edge. The --check mode runs it
// after every event. A packed ring has no links to check (a chain is
// consecutive slots): there PackedRing::check_invariants() rebuilds every
// chain from the positions and the ring's flags.
#pragma once

#include <cstdint>

#include "sim/core/virtqueue.hpp"

namespace vringsim {

struct DescGraphFigures {
  uint32_t chains = 0;       ///< chains of in-use descriptors (posted, device or used)
  uint32_t in_use = 0;       ///< descriptors in those chains
  uint32_t longest = 0;      ///< descriptors in the longest chain
};

/// Verifies that every descriptor is in exactly one state, that the in-use
/// descriptors form simple paths (every vertex at most one predecessor, no
/// cycle), that a chain never spans two states, and that the free list plus
/// the chains cover the table; then runs check_invariants(). Throws
/// InvariantError naming the first violation.
DescGraphFigures check_descriptor_graph(const VirtQueue& ring);
DescGraphFigures check_descriptor_graph(const SplitRing& ring);

}  // namespace vringsim

#include "sim/core/desc_graph.hpp"

#include <fmt/format.h>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <iterator>
#include <vector>

#include "sim/core/errors.hpp"

namespace vringsim {

DescGraphFigures check_descriptor_graph(const VirtQueue& ring) {
  if (const SplitRing* s = ring.split_ring()) return check_descriptor_graph(*s);
  const PackedRing& p = *ring.packed_ring();
  p.check_invariants();
  DescGraphFigures f;
  for (uint32_t id = 0; id < p.size(); ++id) {
    if (p.state(static_cast<uint16_t>(id)) == DescState::Free) continue;
    const uint32_t slots = p.ring_descriptors(static_cast<uint16_t>(id));
    ++f.chains;
    f.in_use += slots;
    f.longest = std::max(f.longest, slots);
  }
  return f;
}

DescGraphFigures check_descriptor_graph(const SplitRing& ring) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  const uint32_t n = ring.size();
  Graph g(n);
  uint32_t counted[4] = {0, 0, 0, 0};
  DescGraphFigures f;
  for (uint32_t i = 0; i < n; ++i) {
    const auto s = ring.state(static_cast<uint16_t>(i));
    ++counted[static_cast<int>(s)];
    if (s == DescState::Free) continue;
    ++f.in_use;
    const Descriptor& d = ring.desc(static_cast<uint16_t>(i));
    if (!(d.flags & kVringDescFNext)) continue;
    if (d.next >= n) throw InvariantError(fmt::format("descriptor {} links to {}, past the table", i, d.next));
    if (ring.state(d.next) != s)
      throw InvariantError(fmt::format("descriptor {} links to {} in another state: a chain spans two states", i,
                                       d.next));
    boost::add_edge(i, d.next, g);
  }
  for (int s = 0; s < 4; ++s)
    if (counted[s] != ring.count(static_cast<DescState>(s)))
      throw InvariantError("descriptor state counts disagree with the states themselves");
  for (uint32_t i = 0; i < n; ++i)
    if (boost::in_degree(i, g) > 1)
      throw InvariantError(fmt::format("descriptor {} is the next of {} descriptors: chains share a tail", i,
                                       boost::in_degree(i, g)));
  // A cycle makes the in-use graph no DAG.
  std::vector<uint32_t> order;
  try {
    boost::topological_sort(g, std::back_inserter(order));
  } catch (const boost::not_a_dag&) {
    throw InvariantError("descriptor next links form a cycle");
  }
  // With at most one predecessor and one successor each and no cycle, every
  // connected piece is a simple path: one chain, with one head.
  std::vector<uint32_t> component(n);
  boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS> u(n);
  for (auto [e, end] = boost::edges(g); e != end; ++e) boost::add_edge(boost::source(*e, g), boost::target(*e, g), u);
  boost::connected_components(u, component.data());
  std::vector<uint32_t> length(n, 0);
  for (uint32_t i = 0; i < n; ++i) {
    if (ring.state(static_cast<uint16_t>(i)) == DescState::Free) continue;
    if (boost::in_degree(i, g) == 0) ++f.chains;
    f.longest = std::max(f.longest, ++length[component[i]]);
  }
  ring.check_invariants();
  return f;
}

}  // namespace vringsim

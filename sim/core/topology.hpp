// The host's topology (the scenario's optional `topology` section): traffic
// sources, bridges, host core groups, backend threads pinned to them, and
// guests with their vCPUs and receive queues. Built as a Boost.Graph graph and
// validated before any run: unique names, references that exist, no cycle in
// the data path, every guest queue reachable from a source, every backend
// pinned to an existing core group. Errors are InputErrors naming the node's
// JSON pointer (exit 2).
//
// Without the section a scenario is one source, one bridge, one core, one
// backend and one guest with one queue: exactly the single-ring model.
//
// Frames are routed by their flow: at every node with several out-ports (a
// source feeding several bridges, a bridge with several guests or bridges
// behind it) a hash of the flow picks the port, and at the guest a second hash
// picks the receive queue, as RSS does. Frames of one flow take one path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/config.hpp"
#include "sim/core/params.hpp"

namespace vringsim {

struct Topology {
  enum class Kind : uint8_t { Source, Bridge, Cores, Backend, Guest, Queue };

  struct Source {
    std::string name, pointer;
    Json traffic;  ///< overrides merged over the scenario's `traffic` section (an object, maybe empty)
    Config config;  ///< the scenario's configuration with those overrides (set by load_scenario)
  };
  struct Bridge {
    std::string name, pointer;
    std::vector<std::string> from;  ///< sources or bridges
  };
  struct Cores {
    std::string name, pointer;
    uint32_t count = 1;
  };
  struct Backend {
    std::string name, pointer;
    std::string cores;  ///< the core group its threads run on
    uint32_t group = 0;  ///< index into cores
  };
  struct Guest {
    std::string name;     ///< expanded: `<group>-<i>` when the entry has count > 1
    std::string pointer;  ///< the entry that declared it
    uint32_t queues = 1, vcpus = 1;
    std::string bridge, backend;
    uint32_t backend_index = 0;
    uint32_t first_queue = 0;  ///< global index of queue 0
  };
  /// Where a node forwards frames: bridges (kind Bridge) or guests (kind Guest).
  struct Port {
    Kind kind;
    uint32_t index;
  };

  bool declared = false;  ///< the scenario had a `topology` section
  std::vector<Source> sources;
  std::vector<Bridge> bridges;
  std::vector<Cores> cores;
  std::vector<Backend> backends;
  std::vector<Guest> guests;
  std::vector<std::vector<Port>> source_ports, bridge_ports;  ///< resolved out-ports, in name order

  uint32_t total_queues() const;
  /// Global queue index -> (guest, queue within the guest).
  std::pair<uint32_t, uint32_t> queue_owner(uint32_t global) const;

  /// The receive queue a frame of `flow` from source `source` reaches.
  uint32_t route(uint32_t source, uint32_t flow) const;

  /// The resolved graph, one node per line (`vringsim topology FILE`).
  std::string text() const;
  /// Graphviz DOT: data path solid, pinning dashed. Guests declared by one
  /// entry (same bridge, backend, queues, vCPUs) are one node, and their
  /// queues one node, so 128 guests fit a page; `expand` draws every guest
  /// and every queue.
  std::string dot(bool expand = false) const;
};

/// Parses and validates `section` (the `topology` object; null for none).
/// `file` names the scenario in errors.
Topology parse_topology(const Json& section, const std::string& file);

/// The topology section's keys, declared like every other parameter (type,
/// unit, default, range, source; "<name>" stands for a node's name): the
/// checks read their ranges and allowed keys from here, and `vringsim
/// params` lists them.
const ParamTable& topology_params();

/// True for dotted keys inside the topology section (`topology.guests.vm.count`):
/// `--set` and sweep axes may set them; parse_topology validates them.
bool is_topology_key(const std::string& key);

}  // namespace vringsim

#include "sim/core/topology.hpp"

#include <fmt/format.h>

// GCC 12 warns that Boost.Graph's edge iterator (a boost::optional inside)
// "may be used uninitialized" when inlined here: a known false positive.
// (clang, which builds the fuzz targets, has no such warning.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/graphviz.hpp>

#include <algorithm>
#include <array>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "sim/core/errors.hpp"
#include "sim/core/rng.hpp"

namespace vringsim {

namespace {

constexpr uint32_t kMaxGuests = 4096;        // in all, whatever the entries' counts
constexpr uint32_t kMaxTotalQueues = 65536;  // in all



void check_keys(const Json& obj, const std::set<std::string>& allowed, const std::string& file,
                const std::string& ptr) {
  if (!obj.is_object()) fail_input(file, ptr, fmt::format("expected an object, got {}", brief_json(obj)));
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!allowed.count(it.key())) {
      const std::string near = nearest_of(it.key(), allowed);
      fail_input(file, ptr + "/" + escape_pointer_token(it.key()),
           near.empty() ? std::string("unknown key") : fmt::format("unknown key (did you mean {}?)", near));
    }
}

/// A count in a node (`section`: "guests", `key`: "queues"), in the range its
/// declaration gives; `def` when absent.
uint32_t count_of(const Json& obj, const char* section, const char* key, uint32_t def, const std::string& file,
                  const std::string& ptr) {
  if (!obj.contains(key)) return def;
  const ParamSpec* spec = topology_params().find(fmt::format("topology.{}.<name>.{}", section, key));
  ensure(spec && spec->min && spec->max, "a topology count without a declared range");
  const Json& v = obj[key];
  const std::string p = ptr + "/" + key;
  if (!v.is_number_integer()) fail_input(file, p, fmt::format("expected an integer, got {}", brief_json(v)));
  const auto n = v.get<int64_t>();
  if (n < *spec->min || n > *spec->max)
    fail_input(file, p, fmt::format("{} is out of range [{}, {}]", n, *spec->min, *spec->max));
  return static_cast<uint32_t>(n);
}

/// The keys a node of `section` may have, from the declarations.
std::set<std::string> node_keys(const std::string& section) {
  const std::string prefix = "topology." + section + ".<name>.";
  std::set<std::string> keys;
  for (const ParamSpec* p : topology_params().all())
    if (p->key.starts_with(prefix)) keys.insert(p->key.substr(prefix.size()));
  return keys;
}

std::string name_of(const Json& obj, const char* key, const std::string& file, const std::string& ptr) {
  const Json& v = obj[key];
  if (!v.is_string()) fail_input(file, ptr + "/" + key, fmt::format("expected a name, got {}", brief_json(v)));
  return v.get<std::string>();
}

/// 1 to 64 of A-Z a-z 0-9 _ -: names become summary keys.
bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

/// The node given a name, or the default when the section declares exactly one.
std::string pick_ref(const Json& obj, const char* key, const std::vector<std::string>& names, const char* what,
                     const std::string& file, const std::string& ptr) {
  if (obj.contains(key)) return name_of(obj, key, file, ptr);
  if (names.size() == 1) return names[0];
  fail_input(file, ptr + "/" + key, fmt::format("missing: there are {} {}s, name one", names.size(), what));
}

uint32_t pick(uint32_t flow, uint64_t salt, size_t n) {
  if (n == 1) return 0;
  return static_cast<uint32_t>(splitmix64((uint64_t{flow} << 32) ^ salt) % n);
}

const char* kind_name(Topology::Kind k) {
  switch (k) {
    case Topology::Kind::Source: return "source";
    case Topology::Kind::Bridge: return "bridge";
    case Topology::Kind::Cores: return "cores";
    case Topology::Kind::Backend: return "backend";
    case Topology::Kind::Guest: return "guest";
    case Topology::Kind::Queue: return "queue";
  }
  return "?";
}

/// The whole topology as one Boost.Graph graph: data-path edges (source ->
/// bridge -> guest -> queue) and placement edges (queue -> backend -> cores).
struct Vertex {
  Topology::Kind kind;
  uint32_t index;  ///< into the Topology's vector of that kind (queues: global queue index)
};
struct Edge {
  bool data = true;
};
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, Vertex, Edge>;

/// A vertex's name, for messages: a queue is `<guest>/rx<q>`. Formatted only
/// for the message that names it: 4096 guests of 16 queues are 65,536 queues.
std::string vertex_name(const Topology& t, const Vertex& v) {
  switch (v.kind) {
    case Topology::Kind::Source: return t.sources[v.index].name;
    case Topology::Kind::Bridge: return t.bridges[v.index].name;
    case Topology::Kind::Cores: return t.cores[v.index].name;
    case Topology::Kind::Backend: return t.backends[v.index].name;
    case Topology::Kind::Guest: return t.guests[v.index].name;
    case Topology::Kind::Queue: {
      const auto [guest, q] = t.queue_owner(v.index);
      return fmt::format("{}/rx{}", t.guests[guest].name, q);
    }
  }
  return "?";
}

Graph build_graph(const Topology& t) {
  Graph g;
  // Each node's vertex, by kind and then by index (queues: global index), in
  // vectors: a map of (kind, index) was most of checking a topology of
  // thousands of queues.
  std::array<std::vector<Graph::vertex_descriptor>, 6> v;
  auto add = [&](Topology::Kind k, uint32_t i) {
    auto& of_kind = v[static_cast<size_t>(k)];
    if (of_kind.size() <= i) of_kind.resize(i + 1);
    of_kind[i] = boost::add_vertex({k, i}, g);
  };
  for (uint32_t i = 0; i < t.sources.size(); ++i) add(Topology::Kind::Source, i);
  for (uint32_t i = 0; i < t.bridges.size(); ++i) add(Topology::Kind::Bridge, i);
  for (uint32_t i = 0; i < t.guests.size(); ++i) {
    add(Topology::Kind::Guest, i);
    for (uint32_t q = 0; q < t.guests[i].queues; ++q) add(Topology::Kind::Queue, t.guests[i].first_queue + q);
  }
  for (uint32_t i = 0; i < t.backends.size(); ++i) add(Topology::Kind::Backend, i);
  for (uint32_t i = 0; i < t.cores.size(); ++i) add(Topology::Kind::Cores, i);
  auto link = [&](Topology::Kind a, uint32_t i, Topology::Kind b, uint32_t j, bool data) {
    boost::add_edge(v[static_cast<size_t>(a)].at(i), v[static_cast<size_t>(b)].at(j), Edge{data}, g);
  };
  for (uint32_t s = 0; s < t.sources.size(); ++s)
    for (const auto& p : t.source_ports[s]) link(Topology::Kind::Source, s, p.kind, p.index, true);
  for (uint32_t b = 0; b < t.bridges.size(); ++b)
    for (const auto& p : t.bridge_ports[b]) link(Topology::Kind::Bridge, b, p.kind, p.index, true);
  for (uint32_t i = 0; i < t.guests.size(); ++i)
    for (uint32_t q = 0; q < t.guests[i].queues; ++q) {
      link(Topology::Kind::Guest, i, Topology::Kind::Queue, t.guests[i].first_queue + q, true);
      link(Topology::Kind::Queue, t.guests[i].first_queue + q, Topology::Kind::Backend, t.guests[i].backend_index,
           false);
    }
  for (uint32_t b = 0; b < t.backends.size(); ++b)
    link(Topology::Kind::Backend, b, Topology::Kind::Cores, t.backends[b].group, false);
  return g;
}

/// The data-path subgraph (placement edges left out), for the cycle and
/// reachability checks.
using DataGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
DataGraph data_graph(const Graph& g) {
  DataGraph d(boost::num_vertices(g));
  for (auto [it, end] = boost::edges(g); it != end; ++it)
    if (g[*it].data) boost::add_edge(boost::source(*it, g), boost::target(*it, g), d);
  return d;
}

struct CycleFinder : boost::default_dfs_visitor {
  std::vector<size_t>* parent;
  std::vector<size_t>* cycle;
  void tree_edge(DataGraph::edge_descriptor e, const DataGraph& g) const {
    (*parent)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(DataGraph::edge_descriptor e, const DataGraph& g) const {
    if (!cycle->empty()) return;
    const size_t from = boost::source(e, g), to = boost::target(e, g);
    for (size_t x = from; x != to; x = (*parent)[x]) cycle->push_back(x);
    cycle->push_back(to);
    std::reverse(cycle->begin(), cycle->end());
  }
};

const std::string& pointer_of(const Topology& t, const Vertex& v) {
  switch (v.kind) {
    case Topology::Kind::Source: return t.sources[v.index].pointer;
    case Topology::Kind::Bridge: return t.bridges[v.index].pointer;
    case Topology::Kind::Cores: return t.cores[v.index].pointer;
    case Topology::Kind::Backend: return t.backends[v.index].pointer;
    case Topology::Kind::Guest: return t.guests[v.index].pointer;
    case Topology::Kind::Queue: return t.guests[t.queue_owner(v.index).first].pointer;
  }
  return t.sources[0].pointer;
}

void check_graph(const Topology& t, const std::string& file) {
  const Graph g = build_graph(t);
  const DataGraph d = data_graph(g);
  const size_t n = boost::num_vertices(d);
  // No cycle in the data path: a frame must reach a guest.
  std::vector<size_t> parent(n, n), cycle;
  std::vector<boost::default_color_type> color(n);
  boost::depth_first_search(d, CycleFinder{{}, &parent, &cycle},
                            boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, d)));
  if (!cycle.empty()) {
    std::string path;
    for (size_t x : cycle) path += vertex_name(t, g[x]) + " -> ";
    path += vertex_name(t, g[cycle.front()]);
    fail_input(file, pointer_of(t, g[cycle.front()]), "the data path has a cycle: " + path);
  }
  // Every guest queue reachable from a source.
  std::vector<boost::default_color_type> seen(n, boost::white_color);
  auto seen_map = boost::make_iterator_property_map(seen.begin(), boost::get(boost::vertex_index, d));
  boost::queue<size_t> work;
  for (size_t x = 0; x < n; ++x)
    if (g[x].kind == Topology::Kind::Source && seen[x] == boost::white_color)
      boost::breadth_first_visit(d, x, work, boost::default_bfs_visitor(), seen_map);
  for (size_t x = 0; x < n; ++x)
    if (g[x].kind == Topology::Kind::Queue && seen[x] == boost::white_color) {
      const auto [guest, q] = t.queue_owner(g[x].index);
      fail_input(file, t.guests[guest].pointer,
           fmt::format("queue {} of guest {} is not reachable from any source (through bridge {})", q,
                       t.guests[guest].name, t.guests[guest].bridge));
    }
}

}  // namespace

bool is_topology_key(const std::string& key) { return key.starts_with("topology."); }

uint32_t Topology::total_queues() const {
  return guests.empty() ? 0 : guests.back().first_queue + guests.back().queues;
}

std::pair<uint32_t, uint32_t> Topology::queue_owner(uint32_t global) const {
  const auto it = std::upper_bound(guests.begin(), guests.end(), global,
                                   [](uint32_t q, const Guest& g) { return q < g.first_queue; });
  const auto gi = static_cast<uint32_t>(it - guests.begin() - 1);
  return {gi, global - guests[gi].first_queue};
}

uint32_t Topology::route(uint32_t source, uint32_t flow) const {
  const auto& sp = source_ports[source];
  Port p = sp[pick(flow, name_hash("src:" + sources[source].name), sp.size())];
  while (p.kind == Kind::Bridge) {
    const auto& bp = bridge_ports[p.index];
    p = bp[pick(flow, name_hash("br:" + bridges[p.index].name), bp.size())];
  }
  const Guest& gst = guests[p.index];
  return gst.first_queue + pick(flow, name_hash("rss:" + gst.name), gst.queues);
}

namespace {

/// Parses the topology section's nodes, one kind at a time; a missing
/// section is one node with a default name.
class TopologyParser {
 public:
  TopologyParser(const Json& section, const std::string& file) : file_(file) {
    t_.declared = !section.is_null();
    top_ = t_.declared ? section : Json::object();
    check_keys(top_, {"sources", "bridges", "cores", "backends", "guests"}, file_, kBase);
  }
  Topology parse() {
    sources();
    bridges();
    cores();
    backends();
    guests();
    claim_names();
    resolve_references();
    order_ports();
    check_graph(t_, file_);
    return std::move(t_);
  }

 private:
  static constexpr const char* kBase = "/topology";

  const Json& entries(const char* key) {
    static const Json empty = Json::object();
    if (!top_.contains(key)) return empty;
    const Json& s = top_[key];
    if (!s.is_object() || s.empty())
      fail_input(file_, std::string(kBase) + "/" + key,
                 fmt::format("expected an object of named entries, got {}", brief_json(s)));
    return s;
  }
  static std::string ptr_of(const char* section_key, const std::string& name) {
    return fmt::format("{}/{}/{}", kBase, section_key, escape_pointer_token(name));
  }
  template <class Nodes>
  static std::vector<std::string> names_of(const Nodes& nodes) {
    std::vector<std::string> out;
    for (const auto& n : nodes) out.push_back(n.name);
    return out;
  }

  void sources() {
    const Json& sources = entries("sources");
    if (sources.empty()) t_.sources.push_back({"nic", kBase, Json::object(), {}});
    for (auto it = sources.begin(); it != sources.end(); ++it) {
      const std::string p = ptr_of("sources", it.key());
      check_keys(it.value(), node_keys("sources"), file_, p);
      Json traffic = it.value().value("traffic", Json::object());
      if (!traffic.is_object()) fail_input(file_, p + "/traffic", "expected an object of traffic keys to override");
      t_.sources.push_back({it.key(), p, traffic, {}});
    }
  }

  void bridges() {
    const Json& bridges = entries("bridges");
    const std::vector<std::string> source_names = names_of(t_.sources);
    if (bridges.empty()) t_.bridges.push_back({"br0", kBase, source_names});
    for (auto it = bridges.begin(); it != bridges.end(); ++it) {
      const std::string p = ptr_of("bridges", it.key());
      check_keys(it.value(), node_keys("bridges"), file_, p);
      Topology::Bridge b{it.key(), p, source_names};
      if (it.value().contains("from")) {
        const Json& from = it.value()["from"];
        if (!from.is_array()) fail_input(file_, p + "/from", "expected a list of source or bridge names");
        b.from.clear();
        for (size_t i = 0; i < from.size(); ++i) {
          if (!from[i].is_string()) fail_input(file_, fmt::format("{}/from/{}", p, i), "expected a name");
          b.from.push_back(from[i].get<std::string>());
        }
      }
      t_.bridges.push_back(std::move(b));
    }
  }

  void cores() {
    const Json& cores = entries("cores");
    if (cores.empty()) t_.cores.push_back({"host", kBase, 1});
    for (auto it = cores.begin(); it != cores.end(); ++it) {
      const std::string p = ptr_of("cores", it.key());
      check_keys(it.value(), node_keys("cores"), file_, p);
      t_.cores.push_back({it.key(), p, count_of(it.value(), "cores", "count", 1, file_, p)});
    }
  }

  void backends() {
    const Json& backends = entries("backends");
    const std::vector<std::string> core_names = names_of(t_.cores);
    if (backends.empty()) {
      t_.backends.push_back({"vhost", kBase, core_names.size() == 1 ? core_names[0] : "", 0});
      if (core_names.size() != 1)
        fail_input(file_, std::string(kBase) + "/backends",
                   "missing: with several core groups, declare the backends and pin each one");
    }
    for (auto it = backends.begin(); it != backends.end(); ++it) {
      const std::string p = ptr_of("backends", it.key());
      check_keys(it.value(), node_keys("backends"), file_, p);
      t_.backends.push_back({it.key(), p, pick_ref(it.value(), "cores", core_names, "core group", file_, p), 0});
    }
  }

  void guests() {
    const Json& guests = entries("guests");
    const std::vector<std::string> bridge_names = names_of(t_.bridges), backend_names = names_of(t_.backends);
    if (guests.empty()) {
      t_.guests.push_back({"guest", kBase, 1, 1, bridge_names.size() == 1 ? bridge_names[0] : "",
                           backend_names.size() == 1 ? backend_names[0] : "", 0, 0});
      if (bridge_names.size() != 1 || backend_names.size() != 1)
        fail_input(file_, std::string(kBase) + "/guests", "missing: with several bridges or backends, declare the guests");
    }
    uint64_t queues_total = 0, guests_total = 0;
    for (auto it = guests.begin(); it != guests.end(); ++it) {
      const std::string p = ptr_of("guests", it.key());
      const Json& o = it.value();
      check_keys(o, node_keys("guests"), file_, p);
      const uint32_t count = count_of(o, "guests", "count", 1, file_, p);
      const uint32_t queues = count_of(o, "guests", "queues", 1, file_, p);
      const uint32_t vcpus = count_of(o, "guests", "vcpus", queues, file_, p);
      const std::string bridge = pick_ref(o, "bridge", bridge_names, "bridge", file_, p);
      const std::string backend = pick_ref(o, "backend", backend_names, "backend", file_, p);
      guests_total += count;
      queues_total += uint64_t{count} * queues;
      if (guests_total > kMaxGuests)
        fail_input(file_, p + "/count", fmt::format("more than {} guests in all", kMaxGuests));
      if (queues_total > kMaxTotalQueues)
        fail_input(file_, p + "/queues", fmt::format("more than {} receive queues in all", kMaxTotalQueues));
      const size_t width = count > 1 ? std::to_string(count - 1).size() : 0;
      for (uint32_t i = 0; i < count; ++i) {
        const std::string name = count == 1 ? it.key() : fmt::format("{}-{:0{}}", it.key(), i, width);
        t_.guests.push_back({name, p, queues, vcpus, bridge, backend, 0, 0});
      }
    }
  }

  void claim_names() {
    // Names are unique across kinds (they become summary keys). Each name
    // the node that claimed it; the pointer a message names is made only
    // for a message (a guest entry of count 4096 makes 4096 names).
    struct Claim {
      const std::string* pointer;
      const char* section;
    };
    auto where = [](const Claim& c) { return *c.pointer == kBase ? std::string(kBase) + "/" + c.section : *c.pointer; };
    std::unordered_map<std::string_view, Claim> owner;  // across every kind
    owner.reserve(t_.sources.size() + t_.bridges.size() + t_.cores.size() + t_.backends.size() + t_.guests.size());
    auto claim = [&](const auto& nodes, const char* section) {
      for (const auto& n : nodes) {
        const Claim c{&n.pointer, section};
        if (!valid_name(n.name))
          fail_input(file_, where(c),
                     fmt::format("\"{}\" is not a valid name (1 to 64 of A-Z a-z 0-9 _ -: names become summary keys)",
                                 n.name));
        const auto [it, fresh] = owner.try_emplace(n.name, c);
        if (!fresh)
          fail_input(file_, where(c), fmt::format("name \"{}\" is already used by {}", n.name, where(it->second)));
      }
    };
    claim(t_.sources, "sources");
    claim(t_.bridges, "bridges");
    claim(t_.cores, "cores");
    claim(t_.backends, "backends");
    claim(t_.guests, "guests");
  }

  template <class Nodes>
  static int64_t index_in(const Nodes& nodes, const std::string& name) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].name == name) return static_cast<int64_t>(i);
    return -1;
  }

  void resolve_references() {
    for (auto& b : t_.backends) {
      const int64_t c = index_in(t_.cores, b.cores);
      if (c < 0)
        fail_input(file_, b.pointer + "/cores",
                   fmt::format("backend {} is pinned to \"{}\", which is no core group", b.name, b.cores));
      b.group = static_cast<uint32_t>(c);
    }
    t_.source_ports.assign(t_.sources.size(), {});
    t_.bridge_ports.assign(t_.bridges.size(), {});
    for (uint32_t b = 0; b < t_.bridges.size(); ++b)
      for (size_t i = 0; i < t_.bridges[b].from.size(); ++i) {
        const std::string& name = t_.bridges[b].from[i];
        const int64_t s = index_in(t_.sources, name), u = index_in(t_.bridges, name);
        if (s >= 0)
          t_.source_ports[s].push_back({Topology::Kind::Bridge, b});
        else if (u >= 0)
          t_.bridge_ports[u].push_back({Topology::Kind::Bridge, b});
        else
          fail_input(file_, fmt::format("{}/from/{}", t_.bridges[b].pointer, i),
                     fmt::format("bridge {} takes frames from \"{}\", which is no source or bridge",
                                 t_.bridges[b].name, name));
      }
    uint32_t next_queue = 0;
    for (uint32_t gi = 0; gi < t_.guests.size(); ++gi) {
      auto& g = t_.guests[gi];
      const int64_t b = index_in(t_.bridges, g.bridge);
      if (b < 0)
        fail_input(file_, g.pointer + "/bridge", fmt::format("guest {}: no bridge named \"{}\"", g.name, g.bridge));
      const int64_t k = index_in(t_.backends, g.backend);
      if (k < 0)
        fail_input(file_, g.pointer + "/backend",
                   fmt::format("guest {}: no backend named \"{}\"", g.name, g.backend));
      g.backend_index = static_cast<uint32_t>(k);
      g.first_queue = next_queue;
      next_queue += g.queues;
      t_.bridge_ports[b].push_back({Topology::Kind::Guest, gi});
    }
  }

  void order_ports() {
    // Ports in name order, whatever order the references came in.
    const Topology& t = t_;
    auto by_name = [&t](const Topology::Port& a, const Topology::Port& b) {
      auto name = [&t](const Topology::Port& p) -> const std::string& {
        return p.kind == Topology::Kind::Bridge ? t.bridges[p.index].name : t.guests[p.index].name;
      };
      return name(a) < name(b);
    };
    // Most come in name order already (a guest entry's guests are numbered
    // in order): checking is linear, sorting thousands of names is not.
    // Names are unique (claim_names), so the order is the same either way.
    for (auto* all : {&t_.source_ports, &t_.bridge_ports})
      for (auto& ports : *all)
        if (!std::is_sorted(ports.begin(), ports.end(), by_name)) std::sort(ports.begin(), ports.end(), by_name);
    for (uint32_t s = 0; s < t_.sources.size(); ++s)
      if (t_.source_ports[s].empty())
        fail_input(file_, t_.sources[s].pointer,
                   fmt::format("source {} feeds no bridge: its frames would go nowhere", t_.sources[s].name));
    for (uint32_t b = 0; b < t_.bridges.size(); ++b)
      if (t_.bridge_ports[b].empty())
        fail_input(file_, t_.bridges[b].pointer,
                   fmt::format("bridge {} forwards to nothing (no guest or bridge behind it): its frames would go "
                               "nowhere",
                               t_.bridges[b].name));
  }

  Topology t_;
  Json top_;
  const std::string& file_;
};

}  // namespace

Topology parse_topology(const Json& section, const std::string& file) { return TopologyParser(section, file).parse(); }

const ParamTable& topology_params() {
  static const ParamTable table = [] {
    ParamTable t;
    const std::string n = "<name>";
    t.add(ParamSpec::object("topology.sources." + n + ".traffic")
              .help("a traffic source: the scenario's traffic section with these keys merged over it "
                    "({\"rate_gbps\": 4}); no sources section: one source \"nic\" with the scenario's traffic")
              .from("one source, nic"));
    t.add(ParamSpec::names("topology.bridges." + n + ".from")
              .help("the sources and bridges whose frames the bridge switches (by flow hash) to its guests and "
                    "bridges; no bridges section: one bridge br0 fed by every source")
              .from("every source"));
    t.add(ParamSpec::integer("topology.cores." + n + ".count", 1, "cores")
              .range(1, 4096)
              .help("host cores in the group; backends pinned to it take turns on them, a service burst at a time")
              .from("one group \"host\" of 1 core"));
    t.add(ParamSpec::string("topology.backends." + n + ".cores", "")
              .help("the core group the backend's threads (one per receive queue) run on")
              .from("the only core group, if there is one"));
    t.add(ParamSpec::integer("topology.guests." + n + ".count", 1, "guests")
              .range(1, 4096)
              .help("identical guests made from this entry, named <name>-0, <name>-1, ... (at most 4096 guests "
                    "and 65536 receive queues in all)")
              .from("one guest"));
    t.add(ParamSpec::integer("topology.guests." + n + ".queues", 1, "queues")
              .range(1, 256)
              .help("receive queues per guest (virtio-net multiqueue), each with its own ring, device and driver; "
                    "frames are spread over them by flow (RSS)")
              .from("1; 256 is QEMU's default cap (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX is larger)"));
    t.add(ParamSpec::integer("topology.guests." + n + ".vcpus", 1, "vCPUs")
              .range(1, 4096)
              .help("vCPUs of each guest; queue q's NAPI polls run on vCPU q mod vcpus (default: one per queue)")
              .from("as many as queues"));
    t.add(ParamSpec::string("topology.guests." + n + ".bridge", "")
              .help("the bridge the guest's frames come from")
              .from("the only bridge, if there is one"));
    t.add(ParamSpec::string("topology.guests." + n + ".backend", "")
              .help("the backend serving the guest's queues")
              .from("the only backend, if there is one"));
    return t;
  }();
  return table;
}

std::string Topology::text() const {
  std::ostringstream o;
  uint32_t core_total = 0;
  for (const auto& c : cores) core_total += c.count;
  o << fmt::format("topology: {} source(s), {} bridge(s), {} core group(s) with {} core(s), {} backend(s), {} guest(s), "
                   "{} receive queue(s)\n",
                   sources.size(), bridges.size(), cores.size(), core_total, backends.size(), guests.size(),
                   total_queues());
  auto port_names = [this](const std::vector<Port>& ports) {
    std::string s;
    for (const auto& p : ports)
      s += (s.empty() ? "" : ", ") + (p.kind == Kind::Bridge ? bridges[p.index].name : guests[p.index].name);
    return s;
  };
  for (uint32_t i = 0; i < sources.size(); ++i)
    o << fmt::format("source  {} -> {}{}\n", sources[i].name, port_names(source_ports[i]),
                     sources[i].traffic.empty() ? "" : "  traffic " + sources[i].traffic.dump());
  for (uint32_t i = 0; i < bridges.size(); ++i) {
    std::string from;
    for (const auto& f : bridges[i].from) from += (from.empty() ? "" : ", ") + f;
    o << fmt::format("bridge  {} <- {} -> {}\n", bridges[i].name, from, port_names(bridge_ports[i]));
  }
  for (uint32_t i = 0; i < cores.size(); ++i) {
    uint32_t threads = 0;
    for (const auto& g : guests)
      if (backends[g.backend_index].group == i) threads += g.queues;
    o << fmt::format("cores   {}: {} core(s), {} backend thread(s)\n", cores[i].name, cores[i].count, threads);
  }
  for (uint32_t i = 0; i < backends.size(); ++i) {
    uint32_t threads = 0;
    for (const auto& g : guests)
      if (g.backend_index == i) threads += g.queues;
    o << fmt::format("backend {} on {}: {} thread(s), one per receive queue\n", backends[i].name, backends[i].cores,
                     threads);
  }
  for (const auto& g : guests)
    o << fmt::format("guest   {}: {} queue(s) (global {}..{}), {} vCPU(s), on bridge {}, backend {}\n", g.name,
                     g.queues, g.first_queue, g.first_queue + g.queues - 1, g.vcpus, g.bridge, g.backend);
  return o.str();
}

namespace {

/// Guests declared by one entry (same pointer), with the same bridge, backend,
/// queues and vCPUs: drawn as one node when the DOT is grouped.
std::vector<std::vector<uint32_t>> guest_groups(const Topology& t, bool expand) {
  std::vector<std::vector<uint32_t>> groups;
  for (uint32_t i = 0; i < t.guests.size(); ++i) {
    const auto& g = t.guests[i];
    if (!expand && !groups.empty()) {
      const auto& h = t.guests[groups.back().front()];
      if (h.pointer == g.pointer && h.bridge == g.bridge && h.backend == g.backend && h.queues == g.queues &&
          h.vcpus == g.vcpus) {
        groups.back().push_back(i);
        continue;
      }
    }
    groups.push_back({i});
  }
  return groups;
}

}  // namespace

std::string Topology::dot(bool expand) const {
  // One vertex per source, bridge, guest group, queue group, backend and core
  // group, in that order; a group of identical guests is one vertex and its
  // queues one, so 128 guests of 4 queues draw as a handful of nodes.
  struct DotVertex {
    std::string label;
    const char* shape;
  };
  struct DotEdge {
    std::string attrs;
  };
  using DotGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, DotVertex, DotEdge>;
  using V = DotGraph::vertex_descriptor;
  DotGraph g;
  auto vertex = [&g](const std::string& label, Kind k, const char* shape) {
    return boost::add_vertex(DotVertex{fmt::format("{}\\n({})", label, kind_name(k)), shape}, g);
  };
  auto edge = [&g](V a, V b, std::string attrs) { boost::add_edge(a, b, DotEdge{std::move(attrs)}, g); };
  std::vector<V> source_v, bridge_v, backend_v, guest_v(guests.size());
  struct Served {
    V queue;
    uint32_t backend;
    std::string label;
  };
  std::vector<Served> served;  // queue -> backend edges, added once the backends have vertices
  for (const auto& s : sources) source_v.push_back(vertex(s.name, Kind::Source, "invhouse"));
  for (const auto& b : bridges) bridge_v.push_back(vertex(b.name, Kind::Bridge, "diamond"));
  for (const auto& grp : guest_groups(*this, expand)) {
    const Guest& first = guests[grp.front()];
    const size_t n = grp.size();
    const V gv = n == 1 ? vertex(fmt::format("{}\\n{} vCPU(s)", first.name, first.vcpus), Kind::Guest, "box")
                        : vertex(fmt::format("{} guests: {} .. {}\\n{} vCPU(s) each", n, first.name,
                                             guests[grp.back()].name, first.vcpus),
                                 Kind::Guest, "box");
    for (uint32_t i : grp) guest_v[i] = gv;
    if (n == 1) {
      for (uint32_t q = 0; q < first.queues; ++q) {
        const V qv = vertex(fmt::format("{}/rx{}", first.name, q), Kind::Queue, "ellipse");
        edge(gv, qv, "style=solid");
        served.push_back({qv, first.backend_index, "served by"});
      }
    } else {
      const V qv = vertex(fmt::format("{} receive queue(s) each\\n{} in all", first.queues, n * first.queues),
                          Kind::Queue, "ellipse");
      edge(gv, qv, fmt::format("style=solid, label=\"x{}\"", n));
      served.push_back({qv, first.backend_index, fmt::format("served by ({} threads)", n * first.queues)});
    }
  }
  for (const auto& b : backends) backend_v.push_back(vertex(b.name, Kind::Backend, "component"));
  std::vector<V> core_v;
  for (const auto& c : cores)
    core_v.push_back(vertex(fmt::format("{}\\n{} core(s)", c.name, c.count), Kind::Cores, "box3d"));
  // Data-path edges into a group of guests: one.
  auto port_edges = [&](V from, const std::vector<Port>& ports) {
    std::vector<V> seen;
    for (const auto& p : ports) {
      const V to = p.kind == Kind::Bridge ? bridge_v[p.index] : guest_v[p.index];
      if (std::find(seen.begin(), seen.end(), to) != seen.end()) continue;
      seen.push_back(to);
      edge(from, to, "style=solid");
    }
  };
  for (uint32_t s = 0; s < sources.size(); ++s) port_edges(source_v[s], source_ports[s]);
  for (uint32_t b = 0; b < bridges.size(); ++b) port_edges(bridge_v[b], bridge_ports[b]);
  for (const auto& x : served) edge(x.queue, backend_v[x.backend], fmt::format("style=dashed, label=\"{}\"", x.label));
  for (uint32_t b = 0; b < backends.size(); ++b)
    edge(backend_v[b], core_v[backends[b].group], "style=dashed, label=\"pinned to\"");
  std::ostringstream o;
  boost::write_graphviz(
      o, g, [&g](std::ostream& out, V v) { out << fmt::format("[label=\"{}\", shape={}]", g[v].label, g[v].shape); },
      [&g](std::ostream& out, DotGraph::edge_descriptor e) { out << "[" << g[e].attrs << "]"; });
  return o.str();
}

}  // namespace vringsim

#include "sim/core/scenario.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "sim/core/cost_model.hpp"
#include "sim/core/cost_preset.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/faults.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/profile.hpp"
#include "sim/core/packed_ring.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/split_ring.hpp"
#include "sim/core/topology.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {

namespace {


std::vector<std::string> policy_names() { return Registry<PolicyInfo>::instance().names(); }

void declare_core(ParamTable& t) {
  RunSettings::bindings().declare(t);
  ArrivalProcess::declare(t);
  Aggregator::declare(t);
  DeviceSettings::bindings().declare(t);
  FaultPlan::declare(t);
  DriverSettings::bindings().declare(t);
  LatencySettings::bindings().declare(t);
  VirtioSettings::bindings().declare(t);
  CostModel::declare(t);
}

void check_object(const Json& obj, const std::string& prefix, const std::string& source) {
  const ParamTable& table = param_table();
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (prefix.empty() && it.key() == "topology") continue;  // lists of named nodes: parse_topology checks it
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (const ParamSpec* spec = table.find(key)) {
      const std::string err = spec->validate(it.value());
      if (!err.empty()) fail_input(source, key_to_pointer(key), err);
    } else if (table.is_section(key)) {
      if (!it.value().is_object())
        fail_input(source, key_to_pointer(key), fmt::format("expected an object, got {}", brief_json(it.value())));
      check_object(it.value(), key, source);
    } else {
      fail_input(source, key_to_pointer(key), "unknown key", [key] {
        const std::string near = param_table().nearest(key);
        return near.empty() ? std::string() : fmt::format(" (did you mean {}?)", key_to_pointer(near));
      });
    }
  }
}

}  // namespace

const ParamTable& param_table() {
  static const ParamTable table = [] {
    ParamTable t;
    declare_core(t);
    for (const PolicyInfo* p : Registry<PolicyInfo>::instance().all())
      if (p->declare) p->declare(t, "policy." + p->name + ".");
    for (const TrafficInfo* k : Registry<TrafficInfo>::instance().all())
      if (k->declare) k->declare(t, "traffic." + k->name + ".");
    return t;
  }();
  return table;
}

namespace {

/// Builds a document from the parser's SAX events, as nlohmann's own DOM
/// parser does, checking as it goes. JSON allows a key twice in one object
/// and nlohmann keeps the last one: a scenario that sets ring.size twice
/// would silently run with the second. It is refused, naming the key's JSON
/// pointer; so is nesting deeper than kMaxJsonDepth. (nlohmann's callback
/// parser, used for this before, copied every key three times, kept a set
/// of keys per object and called a std::function for every value: a third
/// of parsing a scenario.)
class CheckedDomBuilder {
 public:
  CheckedDomBuilder(Json& root, const std::string& source) : root_(root), source_(source) {}

  bool null() { return value(nullptr); }
  bool boolean(bool v) { return value(v); }
  bool number_integer(Json::number_integer_t v) { return value(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return value(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return value(v); }
  bool string(Json::string_t& v) { return value(v); }
  bool binary(Json::binary_t& v) { return value(std::move(v)); }
  bool start_object(std::size_t /*unknown*/) { return open(Json::value_t::object); }
  bool start_array(std::size_t /*unknown*/) { return open(Json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(Json::string_t& k) {
    Frame& top = stack_.back();
    const auto [it, inserted] = top.node->get_ref<Json::object_t&>().try_emplace(k);
    top.key = &it->first;
    if (!inserted) fail_input(source_, pointer(stack_.size()), "key appears twice in one object");
    member_ = &it->second;
    return true;
  }
  // parse_error for syntax, out_of_range for numbers no double can hold:
  // kept, and parsing stops (sax_parse returns false). Throwing it here, to
  // be caught and thrown again as an InputError, unwound the stack twice for
  // every text that is not JSON.
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/, const nlohmann::detail::exception& e) {
    error_ = e.what();
    return false;
  }
  /// What parse_error() was told, "[json.exception.<kind>.<id>] what".
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    Json* node;
    size_t index = 0;                ///< the element being read (arrays)
    const std::string* key = nullptr;  ///< the member being read (objects)
  };

  /// The JSON pointer of the value being read `depth` levels down.
  std::string pointer(size_t depth) const {
    std::string p;
    for (size_t i = 0; i < depth && i < stack_.size(); ++i) {
      p += '/';
      p += stack_[i].node->is_array() ? std::to_string(stack_[i].index) : escape_pointer_token(*stack_[i].key);
    }
    return p;
  }
  /// Puts a value where the next one goes: the root, an array's end, or the member whose key was read last.
  Json* place(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    if (stack_.back().node->is_array()) {
      auto& elements = stack_.back().node->get_ref<Json::array_t&>();
      elements.push_back(std::move(v));
      return &elements.back();
    }
    *member_ = std::move(v);
    return member_;
  }
  void element_done() {
    if (!stack_.empty() && stack_.back().node->is_array()) ++stack_.back().index;
  }
  template <typename V>
  bool value(V&& v) {
    place(Json(std::forward<V>(v)));
    element_done();
    return true;
  }
  bool open(Json::value_t kind) {
    if (stack_.size() >= static_cast<size_t>(kMaxJsonDepth))
      fail_input(source_, pointer(stack_.size()), fmt::format("nested deeper than {} levels", kMaxJsonDepth));
    // Containers on the stack stay where they are: only the innermost grows.
    stack_.push_back({place(Json(kind))});
    return true;
  }
  bool close() {
    stack_.pop_back();
    element_done();
    return true;
  }

  Json& root_;
  const std::string& source_;
  std::vector<Frame> stack_;
  Json* member_ = nullptr;
  std::string error_;
};

/// Parses `text` into `doc` (CheckedDomBuilder); false with what nlohmann
/// said in `error` ("[json.exception.<kind>.<id>] what") for a text that is
/// not JSON. A function of its own: with the parser inlined, parse_json()'s
/// exception tables were long, and the unwinder searched them (linearly)
/// each time a refusal passed through, a tenth of the JSON fuzz targets'
/// time.
[[gnu::noinline]] bool parse_checked(const std::string& text, const std::string& source, Json& doc,
                                     std::string& error) {
  CheckedDomBuilder builder(doc, source);
  try {
    if (Json::sax_parse(text, &builder)) return true;
    error = builder.error();
  } catch (const Json::exception& e) {
    error = e.what();  // one nlohmann throws itself rather than report
  }
  return false;
}

}  // namespace

Json parse_json(const std::string& text, const std::string& source) {
  // nlohmann stops at a NUL byte and ignores the rest: `{...}\0garbage` was
  // accepted whole. A NUL is never in a JSON text.
  if (const auto nul = text.find('\0'); nul != std::string::npos)
    fail_input(source, "", fmt::format("a NUL byte at offset {}: not a JSON text file", nul));
  // parse_error, and out_of_range for numbers no double can hold: both read
  // "[json.exception.<kind>.<id>] what"; keep the what.
  Json doc;
  std::string what;
  if (!parse_checked(text, source, doc, what)) {
    const auto close = what.find("] ");
    if (close != std::string::npos) what.erase(0, close + 2);
    fail_input(source, "", "invalid JSON: " + what);
  }
  return doc;
}

void require_input_file(const std::string& path, std::string_view what) {
  const std::string problem = not_a_regular_file(path);
  if (problem == "does not exist") fail_input(path, "", "cannot open file");
  if (!problem.empty()) fail_input(path, "", fmt::format("{}, not {}", problem, what));
}

std::string read_input_file(const std::string& path, uint64_t max_bytes, std::string_view what) {
  // Only regular files: /dev/zero was read until memory ran out and a FIFO
  // blocked forever. Say what the path is when it is not a file.
  require_input_file(path, what);
  // stdio rather than a stream: a failed read says why (errno), e.g.
  // /proc/self/mem, a "regular file" whose reads fail with EIO.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!in) fail_input(path, "", fmt::format("cannot open file: {}", std::strerror(errno)));
  // Read straight into the string, in one read for a file of the size fstat
  // gives: a zeroed 64 KiB buffer for every file cost more than reading a
  // scenario (a sweep reads two files for each input when fuzzed).
  struct stat st {};
  const size_t hint = ::fstat(::fileno(in.get()), &st) == 0 && st.st_size > 0
                          ? static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(st.st_size), max_bytes))
                          : 0;
  std::string text;
  size_t chunk = std::max<size_t>(hint + 1, 4096);  // one byte more than the size: the read that finds the end
  while (true) {
    const size_t had = text.size();
    text.resize(had + chunk);
    const size_t n = std::fread(text.data() + had, 1, chunk, in.get());
    text.resize(had + n);
    if (text.size() > max_bytes)  // checked while reading: a file may grow, and /proc files report size 0
      fail_input(path, "", fmt::format("larger than {} MiB: not {}", max_bytes >> 20, what));
    if (n < chunk) break;
    chunk = std::min<size_t>(chunk * 2, 1 << 20);
  }
  if (std::ferror(in.get())) fail_input(path, "", fmt::format("cannot read file: {}", std::strerror(errno)));
  return text;
}

Json read_json_file(const std::string& path) {
  return parse_json(read_input_file(path, kMaxJsonFileBytes, "a scenario, sweep or calibration file"), path);
}

Json read_summary_file(const std::string& path) {
  return parse_json(read_input_file(path, kMaxSummaryFileBytes, "a summary vringsim writes"), path);
}

void check_document(const Json& doc, const std::string& source) {
  if (!doc.is_object()) fail_input(source, "", "a scenario must be a JSON object");
  check_object(doc, "", source);
  for (const ParamSpec* spec : param_table().all())
    if (spec->required && !find_key(doc, spec->key)) fail_input(source, key_to_pointer(spec->key), "required key is missing");
}

namespace {

/// Setting `key` by the JSON pointer's rules makes a list where a segment is
/// a number and nothing is there yet, and fills a list with nulls up to the
/// index: --set topology.guests.99999999999=1 asked for 10^11 of them
/// (std::bad_alloc; found by fuzz_sweep). An index may replace an element or
/// add one at the end, no further.
void refuse_index_past_list_end(const Json& doc, const std::string& key, const std::string& source,
                                const std::string& ptr) {
  const Json* node = &doc;  // nullptr: nothing there yet, the assignment makes it
  for (size_t start = 0;;) {
    const size_t dot = key.find('.', start);
    const std::string_view name =
        std::string_view(key).substr(start, dot == std::string::npos ? std::string_view::npos : dot - start);
    const bool number =
        !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (node && node->is_object()) {
      const auto it = node->find(name);
      node = it == node->end() ? nullptr : &*it;
    } else if (!node || node->is_null() || node->is_array()) {
      // A list, or nothing yet (a number makes a list there, anything else an object).
      const size_t size = node && node->is_array() ? node->size() : 0;
      if (number) {
        uint64_t index = 0;
        const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
        if (ec != std::errc() || index > size)
          fail_input(source, ptr,
                     fmt::format("cannot set it: index {} is past the end of the list there ({} elements)",
                                 brief(name, 40), size));
        node = index < size ? &(*node)[index] : nullptr;
      } else if (node && node->is_array() && name != "-") {
        return;  // not an index: the pointer refuses it
      } else {
        node = nullptr;  // a member or an element at the end, made by the assignment
      }
    } else {
      return;  // a value on the way: the pointer refuses it
    }
    if (dot == std::string::npos) return;
    start = dot + 1;
  }
}

}  // namespace

void apply_override(Json& doc, const std::string& assignment) {
  const std::string source = "--set " + assignment;
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) fail_input(source, "", "expected KEY=VALUE");
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  const ParamTable& table = param_table();
  const std::string ptr = key_to_pointer(key);
  Json value;
  // The value's nesting is bounded as a file's is (a 60,000-level list crashed
  // the error path); the callback's InputError is not a Json::exception.
  const Json::parser_callback_t depth_guard = [&](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth)
      fail_input(source, ptr, fmt::format("the value is nested deeper than {} levels", kMaxJsonDepth));
    return true;
  };
  try {
    value = Json::parse(text, depth_guard);
  } catch (const Json::exception&) {
    value = text;  // not JSON (or a number no double can hold): take it as a string
  }
  if (is_topology_key(key)) {  // parse_topology validates the section as a whole
    refuse_index_past_list_end(doc, key, source, ptr);
    try {
      doc[Json::json_pointer(ptr)] = value;
    } catch (const Json::exception&) {
      fail_input(source, ptr, "cannot set it: a key on the way is not an object");
    }
    return;
  }
  const ParamSpec* spec = table.find(key);
  if (!spec)
    fail_input(source, ptr, "unknown key", [key] {
      const std::string near = param_table().nearest(key);
      return near.empty() ? std::string() : fmt::format(" (did you mean {}?)", near);
    });
  // A string key takes what was typed as the string: `costs.preset=2008`
  // names the preset "2008", not the number.
  if (spec->type == ParamType::String && (value.is_number() || value.is_boolean())) value = text;
  // A list of feature names takes NAME,NAME on the command line too (as
  // --set virtio.features_remove=MRG_RXBUF): no quoting of a JSON list.
  if (spec->type == ParamType::Strings && value.is_string()) {
    const std::string names = value.get<std::string>();
    value = Json::array();
    for (size_t start = 0; !names.empty();) {
      const size_t comma = names.find(',', start);
      value.push_back(names.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  const std::string err = spec->validate(value);
  if (!err.empty()) fail_input(source, ptr, err);
  doc[Json::json_pointer(ptr)] = value;
}

namespace {

/// Every declared default in one tree (an edit is not a setting: no default),
/// and which of its nodes are values rather than sections (a default may be
/// an object itself). Built once.
struct DefaultTree {
  Json tree = Json::object();
  std::set<const Json*> values;
};

const DefaultTree& default_tree() {
  static const DefaultTree d = [] {
    DefaultTree t;
    const std::vector<const ParamSpec*> specs = param_table().all();
    for (const ParamSpec* spec : specs)
      if (spec->edits.empty()) set_if_missing(t.tree, spec->key, spec->default_value);
    for (const ParamSpec* spec : specs)
      if (spec->edits.empty()) t.values.insert(find_key(t.tree, spec->key));
    return t;
  }();
  return d;
}

/// Fills `doc` from `defaults` where it has no value, as set_if_missing()
/// for each default does: a missing key takes its default (a missing section
/// all of its defaults at once), a null where a section goes becomes the
/// section. False, with `doc` part-filled, where `doc` has anything else in
/// a section's place.
bool fill_defaults(Json& doc, const Json& defaults, const std::set<const Json*>& values) {
  for (auto d = defaults.begin(); d != defaults.end(); ++d) {
    const auto it = doc.find(d.key());
    if (it == doc.end()) {
      doc.emplace(d.key(), d.value());
    } else if (values.count(&d.value()) == 0) {  // a section
      if (it->is_null())
        *it = d.value();
      else if (!it->is_object() || !fill_defaults(*it, d.value(), values))
        return false;
    }
  }
  return true;
}

}  // namespace

Json resolve_defaults(const Json& doc) {
  // One walk of the defaults' tree: looking each of the few hundred keys up
  // on its own (set_if_missing) was a third of loading a sweep's point.
  const DefaultTree& defaults = default_tree();
  Json out = doc;
  if (out.is_object() && fill_defaults(out, defaults.tree, defaults.values)) return out;
  // Not an object where one goes: each default on its own, by the JSON pointer's rules.
  out = doc;
  for (const ParamSpec* spec : param_table().all())
    if (spec->edits.empty()) set_if_missing(out, spec->key, spec->default_value);
  return out;
}

namespace {
/// An XDP program on the queue (guest.xdp, guest.xdp_action), as Linux's
/// virtnet_xdp_set() allows it: with guest offloads negotiated, only when the
/// driver can turn them off (CTRL_GUEST_OFFLOADS: virtnet_clear_guest_offloads,
/// after which the device sends no GSO packet); and receive_buf() runs the
/// program in receive_small and receive_mergeable only, never receive_big.
void check_xdp(const Config& cfg, const std::string& source, VirtioSetup& v) {
  // guest.xdp alone keeps its meaning from before guest.xdp_action: the
  // buffers' layout with a program attached, on any features.
  const DriverSettings d = DriverSettings::bindings().load(cfg);
  if (d.xdp_action == DriverSettings::XdpAction::None) return;
  const char* where = "/guest/xdp_action";
  if (v.mode == RxMode::Big)
    fail_input(source, where,
               "an XDP program never runs on big packets (receive_buf() -> receive_big(), drivers/net/virtio_net.c): "
               "negotiate MRG_RXBUF, or leave out the guest GSO features for small buffers (virtio.features_remove)");
  FeatureSet offloads = 0;
  for (Feature f : {Feature::GUEST_TSO4, Feature::GUEST_TSO6, Feature::GUEST_ECN, Feature::GUEST_UFO,
                    Feature::GUEST_CSUM})
    if (has(v.negotiated, f)) offloads |= bit(f);
  if (offloads == 0) return;
  if (!has(v.negotiated, Feature::CTRL_GUEST_OFFLOADS))
    fail_input(source, where,
               fmt::format("Linux refuses the XDP program: \"Can't set XDP while host is implementing GRO_HW/CSUM, "
                           "disable GRO_HW/CSUM first\" (virtnet_xdp_set): negotiate CTRL_GUEST_OFFLOADS, or leave "
                           "out {}",
                           [&] {
                             std::string names;
                             for (const auto& n : feature_names(offloads)) names += (names.empty() ? "" : ", ") + n;
                             return names;
                           }()));
  v.negotiated &= ~offloads;  // virtnet_clear_guest_offloads(): the receive mode stays as probed
}
}  // namespace

ReceiveSetup resolve_receive(const Config& cfg, const std::string& source, const FeatureEdit& edit) {
  const std::string pname = RunSettings::bindings().load(cfg).policy;
  const bool pick = pname == kAutoPolicy;
  const PolicyInfo* pinfo = pick ? nullptr : Registry<PolicyInfo>::instance().find(pname);
  if (!pick && !pinfo) {
    std::string names;
    for (const auto& n : policy_names()) names += (names.empty() ? "" : ", ") + n;
    fail_input(source, "/policy/name", fmt::format("unknown policy \"{}\" (valid: {})", pname, names));
  }
  ReceiveSetup rx;
  rx.virtio = negotiate(cfg, pick ? std::nullopt : std::optional<RxMode>(pinfo->mode), pname, source, edit);
  if (pick) {
    const PolicyInfo* chosen = policy_for_mode(rx.virtio.mode);
    if (!chosen)
      fail_input(source, "/policy/name",
                 fmt::format("no policy runs the {} receive mode the features select", rx_mode_name(rx.virtio.mode)));
    rx.policy = chosen->name;
  } else {
    rx.policy = pname;
  }
  check_xdp(cfg, source, rx.virtio);
  return rx;
}

namespace {
/// host.notify_on_empty is the 2008 QEMU's rule (kvm-userspace
/// qemu/hw/virtio.c virtio_notify(), QEMU 0.10.0): QEMU's backend, the split
/// ring and its flags. Every host that knows more applies the rule only for
/// a guest that accepted VIRTIO_F_NOTIFY_ON_EMPTY, which no Linux guest has
/// done since 2.6.32 (Rusty Russell's "virtio_net: don't free buffers in
/// xmit ring", 2009-09-24, dropped it from virtio_net's feature table).
void check_notify_on_empty(const Config& cfg, const std::string& source, const VirtioSetup& v) {
  const DeviceSettings dev = DeviceSettings::bindings().load(cfg);
  if (!dev.notify_on_empty) return;
  const char* where = "/host/notify_on_empty";
  if (dev.vhost)
    fail_input(source, where,
               "true is the 2008 QEMU's rule (virtio_notify in qemu/hw/virtio.c); vhost-net (2010) notifies on "
               "empty only for a guest that accepted VIRTIO_F_NOTIFY_ON_EMPTY (vhost_notify), and Linux guests "
               "stopped asking for it in 2.6.32: it runs with host.backend \"qemu\"");
  // QEMU's split ring with the flags only: the packed ring has no such rule
  // (virtio_packed_should_notify), and the split ring applies it with the
  // event index only for a guest that accepted the feature.
  std::vector<std::string> reasons, names;
  if (v.packed()) {
    names.push_back("RING_PACKED");
    reasons.push_back(
        "QEMU's packed ring has no such rule (virtio_packed_should_notify reads only the driver's event "
        "suppression area)");
  }
  if (v.event_idx()) {
    names.push_back("RING_EVENT_IDX");
    reasons.push_back(
        "with RING_EVENT_IDX (2011) QEMU notifies on empty only for a guest that accepted "
        "VIRTIO_F_NOTIFY_ON_EMPTY (virtio_split_should_notify), which no Linux guest negotiating the event index "
        "does");
  }
  if (names.empty()) return;
  std::string list, why;
  for (size_t i = 0; i < names.size(); ++i) {
    list += (i ? "," : "") + names[i];
    why += (i ? "; " : "") + reasons[i];
  }
  fail_input(source, where,
             fmt::format("true is the 2008 QEMU's rule of a split ring with the flags (virtio_notify read only "
                         "VRING_AVAIL_F_NO_INTERRUPT): {}; virtio.features_remove={} runs it",
                         why, list));
}
/// A message that starts with a JSON pointer into the scenario ("/traffic/
/// arrival: ..."), not with an absolute file name ("/tmp/x.pcap: ..."):
/// its first token names a section or key of the scenario.
bool names_a_pointer(const std::string& what) {
  if (!what.starts_with("/")) return false;
  const std::string first = what.substr(1, what.find_first_of("/:", 1) - 1);
  return param_table().is_section(first) || param_table().find(first) != nullptr;
}
}  // namespace

ReceiveSetup check_resolved(const Config& cfg, const std::string& source, const std::string& base_dir,
                            const FeatureEdit& edit) {
  const RunSettings run = RunSettings::bindings().load(cfg);
  if (run.warmup_s >= run.stop_time_s)
    fail_input(source, "/measure/warmup_s",
               fmt::format("warm-up ({} s) must end before the run stops (stop.time_s = {} s)", run.warmup_s,
                           run.stop_time_s));
  // Every registered policy's parameters are validated (by check_document);
  // the selected one must also agree with the features and fit the ring.
  ReceiveSetup rx = resolve_receive(cfg, source, edit);
  const std::string& pname = rx.policy;
  if (!rx.virtio.packed() && !is_valid_queue_size(run.ring_size))
    fail_input(source, "/ring/size",
               fmt::format("{} is not a power of two (1..32768); a split ring needs one, RING_PACKED takes any size",
                           run.ring_size));
  if (rx.virtio.packed()) {
    if (DeviceSettings::bindings().load(cfg).vhost)
      fail_input(source, "/host/backend",
                 "\"vhost\": the kernel's vhost-net does not offer RING_PACKED (VHOST_FEATURES, "
                 "drivers/vhost/vhost.h); the packed ring runs with host.backend \"qemu\"");
    const FaultPlan faults(cfg, run.seed, run.stop_time_s, true);
    if (faults.bad_chain_rate() > 0)
      for (const ChainFault f : faults.bad_chain_kinds())
        if (!packed_fault_injectable(f))
          fail_input(source, "/faults/bad_chain/kinds",
                     fmt::format("{} cannot be posted on a packed ring (no head indexes, no next links): it takes "
                                 "zero_length, read_only and bad_indirect",
                                 chain_fault_name(f)));
  }
  check_notify_on_empty(cfg, source, rx.virtio);
  auto policy = make_policy(pname, PolicyContext{cfg, "", run.seed, rx.virtio, run.ring_size});
  const auto posting = policy->nominal_posting();
  const uint32_t ring = run.ring_size;
  if (posting.size() > ring)
    fail_input(source, "/ring/size",
         fmt::format("{} entries cannot hold one {} slot ({} descriptors)", ring, pname, posting.size()));
  if (const DeviceSettings dev = DeviceSettings::bindings().load(cfg);
      !dev.vhost && dev.can_receive_bytes > 0 && policy->mergeable()) {
    const RingFigures fig = ring_figures(ring, RingLayout::of(rx.virtio), *policy);
    if (fig.posted_bytes_full < dev.can_receive_bytes)
      fail_input(source, "/host/can_receive_bytes",
                 fmt::format("{} bytes: a full ring of {} entries posts {} bytes of {} buffers, so this QEMU "
                             "would never read the tap; 0 is today's QEMU (only the frame's size counts)",
                             dev.can_receive_bytes, ring, fig.posted_bytes_full, pname));
  }
  const std::string& kind = run.traffic_kind;
  const TrafficInfo* tinfo = Registry<TrafficInfo>::instance().find(kind);
  if (!tinfo) fail_input(source, "/traffic/kind", fmt::format("unknown traffic kind \"{}\"", kind));
  TrafficContext ctx{cfg, "traffic." + kind + ".", run.seed, base_dir};
  // The source checks its frames against the MTU segments the host cuts for
  // a guest without GSO, as the run will (WorldBuilder::traffic).
  ctx.segment_mtu = rx.virtio.guest_gso() ? 0 : rx.virtio.mtu;
  try {
    if (tinfo->validate) tinfo->validate(ctx);
    auto src = tinfo->create(ctx);
    if (WireSettings::bindings().load(cfg).arrival == "trace") {
      const auto first = src->next();
      if (first && !first->time_s)
        throw InputError(
            fmt::format("/traffic/arrival: \"trace\" needs timestamps, and traffic kind \"{}\" gives "
                        "none here",
                        kind));
    }
  } catch (const InputError& e) {
    // Traffic kinds report "/pointer: message" or "DATAFILE: where: message";
    // a data file named by an absolute path starts with "/" too, but its
    // first token is no section of the scenario.
    const std::string what = e.what();
    throw InputError(names_a_pointer(what) ? fmt::format("{}: {}", source, what) : what);
  }
  return rx;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw InvariantError("SHA-256 computation failed");
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

namespace {
/// A shipped preset parsed and checked, with its values. Its text never
/// changes, so each is parsed and checked once, on first use: every point
/// of a sweep whose base names one (as every driver.profile does) parsed
/// and checked it again, a tenth of the point's load.
struct CheckedPreset {
  Json preset;
  std::vector<PresetValue> values;
};

/// The shipped preset `p` checked, or nullptr when it fails its checks (its
/// error is then thrown where it is used, as for a preset file).
const CheckedPreset* checked_shipped_preset(const CostPresetInfo& p) {
  static const std::map<const CostPresetInfo*, CheckedPreset> checked = [] {
    std::map<const CostPresetInfo*, CheckedPreset> m;
    for (const CostPresetInfo* info : Registry<CostPresetInfo>::instance().all()) {
      try {
        Json preset = parse_json(info->text, info->file);
        check_cost_preset(preset, info->file);
        std::vector<PresetValue> values = preset_values(preset);
        m.emplace(info, CheckedPreset{std::move(preset), std::move(values)});
      } catch (const InputError&) {
      }
    }
    return m;
  }();
  const auto it = checked.find(&p);
  return it == checked.end() ? nullptr : &it->second;
}

/// costs.preset: a cost preset (a shipped one by name, models/presets/, or
/// a file `vringsim calibrate` wrote) fills the costs, and the latencies if
/// it has a "latency" object, that the scenario does not set itself:
/// default < profile, preset < scenario file < sweep axis < --set. (A
/// profile names its era's preset; the scenario's own names win.)
/// A preset file named by a --set (an override from `typed_from` on)
/// resolves against the working directory, and its errors name that --set;
/// one the scenario file names (or an earlier override: a sweep axis)
/// against `base_dir`. Returns what the preset filled, for provenance.
CostPresetUse apply_cost_preset(Json& doc, const std::string& source, const std::string& base_dir,
                                const std::vector<std::string>& overrides, size_t typed_from) {
  const Json::json_pointer where("/costs/preset");
  CostPresetUse use;
  if (!doc.contains(where) || !doc[where].is_string() || doc[where].get<std::string>().empty()) return use;
  const std::string value = doc[where].get<std::string>();
  std::string named_by = source;
  for (size_t i = overrides.size(); i-- > 0;) {
    const size_t eq = overrides[i].find('=');
    if (eq == std::string::npos || overrides[i].substr(0, eq) != "costs.preset") continue;
    if (i >= typed_from) named_by = "--set " + overrides[i];
    break;
  }
  // A shipped preset's name means the shipped preset; anything else is a file.
  Json read_preset;
  const Json* preset = &read_preset;
  const CheckedPreset* checked = nullptr;
  const auto& shipped_presets = Registry<CostPresetInfo>::instance();
  if (const CostPresetInfo* shipped = shipped_presets.find(value)) {
    use.name = shipped->name;
    use.file = shipped->file;
    checked = checked_shipped_preset(*shipped);
    if (checked)
      preset = &checked->preset;
    else
      read_preset = parse_json(shipped->text, shipped->file);
  } else {
    std::filesystem::path file(value);
    if (file.is_relative() && named_by == source) file = std::filesystem::path(base_dir) / file;
    if (std::string problem = not_a_regular_file(file); !problem.empty()) {
      if (!names_preset_file(value)) {
        std::string names;
        for (const std::string& n : shipped_presets.names()) names += (names.empty() ? "" : ", ") + n;
        problem += fmt::format(" (and is not a shipped preset: {})", names);
      }
      fail_input(named_by, "/costs/preset", brief(file.string(), 200) + " " + problem);
    }
    use.file = file.string();
    read_preset = read_json_file(use.file);
    use.name = read_preset.is_object() && read_preset.contains("name") && read_preset["name"].is_string()
                   ? read_preset["name"].get<std::string>()
                   : file.stem().string();
  }
  std::vector<PresetValue> read_values;
  if (!checked) {
    check_cost_preset(*preset, use.file);
    read_values = preset_values(*preset);
  }
  const Json* sources = preset->contains("sources") ? &(*preset)["sources"] : nullptr;
  for (const PresetValue& v : checked ? checked->values : read_values) {
    const Json::json_pointer target(v.pointer);
    if (doc.contains(target)) continue;
    doc[target] = v.value;
    use.filled.insert(v.key);
    if (sources && sources->contains(v.key)) use.sources[v.key] = (*sources)[v.key].get<std::string>();
  }
  return use;
}
}  // namespace

namespace {
/// driver.profile: a driver preset fills the keys the scenario does not set
/// (default < profile < scenario file < sweep axis < --set), and a scenario
/// that gives virtio.features without naming a policy gets policy "auto".
void apply_driver_profile(Json& doc) {
  const Json::json_pointer where("/driver/profile");
  if (doc.contains(where) && doc[where].is_string() && !doc[where].get<std::string>().empty()) {
    const ProfileInfo* profile = Registry<ProfileInfo>::instance().find(doc[where].get<std::string>());
    ensure(profile != nullptr, "driver.profile passed validation but names no profile");
    for (const ProfileSetting& s : profile->settings) {
      if (find_key(doc, s.key)) continue;
      const ParamSpec* spec = param_table().find(s.key);
      ensure(spec != nullptr && spec->validate(s.value).empty(),
             "profile " + profile->name + " sets " + s.key + " to an invalid value");
      set_if_missing(doc, s.key, s.value);
    }
    if (!doc.contains(Json::json_pointer("/policy/name"))) doc["policy"]["name"] = kAutoPolicy;
  }
  const Json::json_pointer features("/virtio/features");
  if (doc.contains(features) && doc[features].is_array() && !doc[features].empty() &&
      !doc.contains(Json::json_pointer("/policy/name")))
    doc["policy"]["name"] = kAutoPolicy;
}

/// Each topology source's configuration: the scenario's, with the source's
/// `traffic` overrides merged in and checked like the scenario's own.
void resolve_sources(Scenario& s, const Json& doc) {
  const std::string& kind = s.run.traffic_kind;
  const uint64_t seed = s.run.seed;
  for (auto& src : s.topology.sources) {
    if (src.traffic.empty()) {
      src.config = s.config;
      continue;
    }
    Json d = doc;
    d.erase("topology");
    if (!d.contains("traffic")) d["traffic"] = Json::object();
    d["traffic"].merge_patch(src.traffic);
    try {
      check_document(d, s.file);
      src.config = Config(resolve_defaults(d));
      check_resolved(src.config, s.file, s.base_dir, s.features_edit);
    } catch (const InputError& e) {
      std::string what = e.what();
      const std::string from = s.file + ": /traffic", to = s.file + ": " + src.pointer + "/traffic";
      if (what.starts_with(from)) what = to + what.substr(from.size());
      throw InputError(what);
    }
  }
  // A closed-loop sender paces itself on the fate of its own frames: the
  // model drives one receive queue with it.
  if (s.topology.total_queues() > 1 || s.topology.sources.size() > 1) {
    const TrafficContext ctx{s.config, "traffic." + kind + ".", seed, s.base_dir};
    if (Registry<TrafficInfo>::instance().find(kind)->create(ctx)->closed_loop() != nullptr)
      fail_input(s.file, "/traffic/kind",
           fmt::format("closed-loop traffic (\"{}\") drives one receive queue from one source; this topology has "
                       "{} queues and {} source(s)",
                       kind, s.topology.total_queues(), s.topology.sources.size()));
  }
}
/// Wire keys the chosen arrival process ignores, and a rate above the link
/// it is capped at, are said on stderr rather than silently run otherwise.
void warn_unused_wire_keys(const Json& doc, const WireSettings& w, const std::string& source) {
  struct Use {
    const char* key;
    std::vector<std::string> arrivals;
  };
  const Use uses[] = {{"rate_gbps", {"constant", "poisson"}},
                      {"speed", {"trace"}},
                      {"burst_frames", {"onoff"}},
                      {"duty_cycle", {"onoff"}}};
  for (const Use& u : uses) {
    if (!doc.contains(Json::json_pointer(std::string("/traffic/") + u.key))) continue;
    if (std::find(u.arrivals.begin(), u.arrivals.end(), w.arrival) != u.arrivals.end()) continue;
    std::string users;
    for (const auto& a : u.arrivals) users += (users.empty() ? "" : " and ") + a;
    std::cerr << fmt::format("{}: /traffic/{}: warning: ignored with traffic.arrival \"{}\" (only {} arrivals use "
                             "it)\n",
                             source, u.key, w.arrival, users);
  }
  if ((w.arrival == "constant" || w.arrival == "poisson") && w.rate_gbps > w.link_gbps)
    std::cerr << fmt::format("{}: /traffic/rate_gbps: warning: {} Gb/s is above traffic.link_gbps ({} Gb/s): the "
                             "offered rate is capped at the link rate\n",
                             source, w.rate_gbps, w.link_gbps);
}

/// An error about a key the last --set of it gave, or about a value inside
/// it (/virtio/features_remove/1), names that --set rather than the file
/// ("--set ring.size=3: /ring/size: ..."); any other is rethrown as it is.
[[noreturn]] void rethrow_naming_override(const InputError& e, const std::string& source,
                                          const std::vector<std::string>& overrides) {
  const std::string what = e.what();
  const std::string head = source + ": /";
  if (what.starts_with(head)) {
    const size_t end = what.find(": ", head.size());
    const std::string ptr = what.substr(source.size() + 2, end - source.size() - 2);
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it) {
      const size_t eq = it->find('=');
      if (eq == std::string::npos) continue;
      const std::string key_ptr = key_to_pointer(it->substr(0, eq));
      if (ptr == key_ptr || ptr.starts_with(key_ptr + "/"))
        throw InputError("--set " + *it + what.substr(source.size()));
    }
  }
  throw e;
}

/// check_resolved(), its errors naming the --set that gave their key.
ReceiveSetup check_resolved_naming_overrides(const Config& cfg, const std::string& source, const std::string& base_dir,
                                             const std::vector<std::string>& overrides, const FeatureEdit& edit) {
  try {
    return check_resolved(cfg, source, base_dir, edit);
  } catch (const InputError& e) {
    rethrow_naming_override(e, source, overrides);
  }
}

/// virtio.features_remove, then virtio.features_add, applied to the list the
/// precedence chain gave virtio.features (`doc` after the overrides and the
/// driver profile): the document holds the edited list and no longer the
/// edit, which is returned for provenance. `base_from` says where the list
/// came from, for messages.
FeatureEdit apply_feature_edit(Json& doc, const std::string& source, const std::string& base_from) {
  FeatureEdit edit;
  if (!doc.contains("virtio") || !doc["virtio"].is_object()) return edit;
  Json& v = doc["virtio"];
  // Types were checked with the rest of the document.
  if (v.contains("features")) edit.base = v["features"].get<std::vector<std::string>>();
  if (v.contains("features_remove")) edit.remove = v["features_remove"].get<std::vector<std::string>>();
  if (v.contains("features_add")) edit.add = v["features_add"].get<std::vector<std::string>>();
  v.erase("features_remove");
  v.erase("features_add");
  const std::vector<std::string> edited = edited_features(edit, source, base_from);
  if (!edit.empty()) v["features"] = edited;
  return edit;
}

}  // namespace

namespace {
/// A capture, trace or length file named by a --set (an override from
/// `typed_from` on) is a path the user typed: it resolves against the
/// working directory, as the scenario, --out or a typed costs.preset do. It
/// is rewritten relative to the scenario's folder, where the source looks
/// for it, so the configuration echoed in summary.json stays relative.
void rebase_typed_files(Json& doc, const std::string& base_dir, const std::vector<std::string>& overrides,
                        size_t typed_from) {
  namespace fs = std::filesystem;
  for (size_t i = typed_from; i < overrides.size(); ++i) {
    const size_t eq = overrides[i].find('=');
    if (eq == std::string::npos) continue;
    const std::string key = overrides[i].substr(0, eq);
    if (!key.starts_with("traffic.") || !(key.ends_with(".file") || key.ends_with("_file"))) continue;
    const Json::json_pointer where(key_to_pointer(key));
    if (!doc.contains(where) || !doc[where].is_string()) continue;
    const fs::path file(doc[where].get<std::string>());
    if (file.empty() || file.is_absolute()) continue;
    std::error_code ec;
    const fs::path from = fs::absolute(base_dir.empty() ? fs::path(".") : fs::path(base_dir), ec);
    const fs::path to = fs::absolute(file, ec);
    if (ec) continue;
    doc[where] = to.lexically_normal().lexically_relative(from.lexically_normal()).string();
  }
}
}  // namespace

Scenario load_scenario_doc(Json doc, const std::string& source, const std::string& base_dir,
                           const std::vector<std::string>& overrides, size_t typed_from) {
  check_document(doc, source);
  return load_checked_scenario_doc(std::move(doc), source, base_dir, overrides, typed_from);
}

Scenario load_checked_scenario_doc(Json doc, const std::string& source, const std::string& base_dir,
                                   const std::vector<std::string>& overrides, size_t typed_from) {
  for (const auto& o : overrides) apply_override(doc, o);
  rebase_typed_files(doc, base_dir, overrides, typed_from);
  const Json* profile = find_key(doc, "driver.profile");
  const std::string base_from =
      !find_key(doc, "virtio.features") && profile && profile->is_string() && !profile->get<std::string>().empty()
          ? fmt::format("driver.profile \"{}\"'s list", profile->get<std::string>())
          : "";
  apply_driver_profile(doc);
  Scenario s;
  try {
    s.features_edit = apply_feature_edit(doc, source, base_from);
  } catch (const InputError& e) {
    rethrow_naming_override(e, source, overrides);
  }
  s.cost_preset = apply_cost_preset(doc, source, base_dir, overrides, typed_from);
  s.file = source;
  s.overrides = overrides;
  s.config = Config(resolve_defaults(doc));
  s.base_dir = base_dir;
  // The receive setup check_resolved() worked out: working it out again
  // here (the features negotiated, the policy found) was 1.4 % of the
  // scenario fuzz target's time.
  const ReceiveSetup rx = check_resolved_naming_overrides(s.config, source, s.base_dir, overrides, s.features_edit);
  s.run = RunSettings::bindings().load(s.config);
  s.run.policy = rx.policy;
  s.virtio = rx.virtio;
  // A rate only constant and Poisson arrivals use: say so rather than
  // silently run at line rate.
  warn_unused_wire_keys(doc, WireSettings::bindings().load(s.config), source);
  s.name = s.run.name;
  s.topology = parse_topology(doc.contains("topology") ? doc["topology"] : Json(), source);
  resolve_sources(s, doc);
  return s;
}

std::string Scenario::sha256() const { return sha256_hex(config.json().dump()); }

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides, size_t typed_from) {
  return load_scenario_doc(read_json_file(path), path, std::filesystem::path(path).parent_path().string(), overrides,
                           typed_from);
}

}  // namespace vringsim

#include "sim/core/virtio.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "sim/core/errors.hpp"
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {

namespace {
constexpr FeatureSet kGuestGso = bit(Feature::GUEST_TSO4) | bit(Feature::GUEST_TSO6) | bit(Feature::GUEST_UFO);
/// Bits 32 and above exist only in the 1.x interface (the legacy one has a
/// 32-bit feature field): each needs VERSION_1.
constexpr FeatureSet kV1 = bit(Feature::VERSION_1);
}  // namespace

const std::vector<FeatureInfo>& feature_table() {
  using F = Feature;
  // Dependencies: virtio 1.2 §5.1.3.1 "Feature bit requirements".
  static const std::vector<FeatureInfo> t = {
      {F::CSUM, "CSUM", 0, ""},
      {F::GUEST_CSUM, "GUEST_CSUM", 0, ""},
      {F::CTRL_GUEST_OFFLOADS, "CTRL_GUEST_OFFLOADS", bit(F::CTRL_VQ), ""},
      {F::MTU, "MTU", 0, "the driver uses virtio.mtu; above 1500 without MRG_RXBUF, big packets"},
      {F::MAC, "MAC", 0, ""},
      {F::GUEST_TSO4, "GUEST_TSO4", bit(F::GUEST_CSUM),
       "guest GSO: without MRG_RXBUF, big packets of guest.max_skb_frags pages"},
      {F::GUEST_TSO6, "GUEST_TSO6", bit(F::GUEST_CSUM),
       "guest GSO: without MRG_RXBUF, big packets of guest.max_skb_frags pages"},
      {F::GUEST_ECN, "GUEST_ECN", bit(F::GUEST_TSO4) | bit(F::GUEST_TSO6), ""},
      {F::GUEST_UFO, "GUEST_UFO", bit(F::GUEST_CSUM),
       "guest GSO: without MRG_RXBUF, big packets of guest.max_skb_frags pages"},
      {F::HOST_TSO4, "HOST_TSO4", bit(F::CSUM), ""},
      {F::HOST_TSO6, "HOST_TSO6", bit(F::CSUM), ""},
      {F::HOST_ECN, "HOST_ECN", bit(F::HOST_TSO4) | bit(F::HOST_TSO6), ""},
      {F::HOST_UFO, "HOST_UFO", bit(F::CSUM), ""},
      {F::MRG_RXBUF, "MRG_RXBUF", 0, "mergeable receive buffers; 12-byte header"},
      {F::STATUS, "STATUS", 0, ""},
      {F::CTRL_VQ, "CTRL_VQ", 0, ""},
      {F::MQ, "MQ", bit(F::CTRL_VQ), ""},
      {F::RING_INDIRECT_DESC, "RING_INDIRECT_DESC", 0,
       "a chain of several buffers takes one ring slot and a 16-byte-per-buffer table (big packets)"},
      {F::RING_EVENT_IDX, "RING_EVENT_IDX", 0,
       "kicks and interrupts by avail_event and used_event (vring_need_event) instead of the flags; the ring holds both, a u16 each (2 more bytes: the other fits the padding)"},
      {F::VERSION_1, "VERSION_1", 0,
       "12-byte header in every receive mode; a modern device: the split ring aligned to 64 bytes "
       "(virtio_pci_modern.c setup_vq: SMP_CACHE_BYTES); small buffers of one descriptor (add_recvbuf_small)"},
      {F::RING_PACKED, "RING_PACKED", kV1,
       "the packed ring: one ring of 16-byte descriptors read and written by both sides, and two 4-byte event "
       "suppression areas (16N + 8 bytes); any queue size",
       true, false},
      {F::IN_ORDER, "IN_ORDER", kV1, ""},
  };
  return t;
}

const FeatureInfo* find_feature(std::string_view name) {
  for (const auto& f : feature_table())
    if (name == f.name) return &f;
  return nullptr;
}

std::vector<std::string> feature_names(FeatureSet s) {
  std::vector<std::string> out;
  for (const auto& f : feature_table())
    if (has(s, f.feature)) out.push_back(f.name);
  return out;
}

std::vector<std::string> all_feature_names() {
  std::vector<std::string> out;
  for (const auto& f : feature_table()) out.push_back(f.name);
  return out;
}

const char* rx_mode_name(RxMode m) {
  switch (m) {
    case RxMode::Small: return "small";
    case RxMode::Big: return "big";
    case RxMode::Mergeable: return "mergeable";
  }
  return "?";
}

RxMode receive_mode(FeatureSet negotiated, uint32_t mtu) {
  if (has(negotiated, Feature::MRG_RXBUF)) return RxMode::Mergeable;
  if ((negotiated & kGuestGso) != 0 || mtu > 1500) return RxMode::Big;
  return RxMode::Small;
}

uint32_t header_bytes(FeatureSet negotiated) {
  return has(negotiated, Feature::MRG_RXBUF) || has(negotiated, Feature::VERSION_1) ? 12 : 10;
}

bool VirtioSetup::guest_gso() const { return (negotiated & kGuestGso) != 0; }

FeatureSet legacy_features(RxMode mode) {
  using F = Feature;
  // What Linux 2.6.25/26 accepted (QEMU's virtio_net_bad_features() lists
  // them: MAC, GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, GUEST_ECN, plus the host
  // offloads); 2.6.27 added MRG_RXBUF. The small mode is a driver without GSO.
  const FeatureSet gso = bit(F::CSUM) | bit(F::GUEST_CSUM) | bit(F::MAC) | bit(F::GUEST_TSO4) |
                         bit(F::GUEST_TSO6) | bit(F::GUEST_ECN) | bit(F::HOST_TSO4) | bit(F::HOST_TSO6) |
                         bit(F::HOST_ECN);
  switch (mode) {
    case RxMode::Small: return bit(F::CSUM) | bit(F::MAC);
    case RxMode::Big: return gso;
    case RxMode::Mergeable: return gso | bit(F::MRG_RXBUF);
  }
  return 0;
}

VirtioSetup legacy_setup(RxMode mode) {
  VirtioSetup v;
  v.negotiated = legacy_features(mode);
  v.from_policy = true;
  v.mode = mode;
  v.header_bytes = header_bytes(v.negotiated);
  return v;
}

const Bindings<VirtioSettings>& VirtioSettings::bindings() {
  using S = VirtioSettings;
  auto check_names = [](const Json& v) -> std::string {
    std::set<std::string> seen;
    std::set<std::string> known;
    for (const auto& n : all_feature_names()) known.insert(n);
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string& n = v[i].get_ref<const std::string&>();
      if (!find_feature(n)) {
        const std::string near = nearest_of(n, known);
        return fmt::format("element {}: unknown feature \"{}\"{}", i, brief(n),
                           near.empty() ? "" : fmt::format(" (did you mean {}?)", near));
      }
      if (!seen.insert(n).second) return fmt::format("element {}: {} appears twice", i, n);
    }
    return "";
  };
  auto profiles = [] {
    std::vector<std::string> out = Registry<ProfileInfo>::instance().names();
    out.insert(out.begin(), "");
    return out;
  };
  auto offered = [] {
    std::vector<std::string> out;
    for (const auto& f : feature_table())
      if (f.modelled && f.offered_by_default) out.push_back(f.name);
    return out;
  };
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::accepted,
                ParamSpec::strings("virtio.features", {})
                    .help("features the driver accepts, by their virtio spec names (vringsim features); each "
                          "must be offered by the device. Empty: the named policy's 2008 features (legacy ring "
                          "layout, no event index)")
                    .from("2008: the features of the named policy")
                    .must(check_names)
                    .items_from(all_feature_names()))
          // Edits of virtio.features: checked where they are applied
          // (edited_features), so that an unknown or idle name is named by its
          // own pointer (/virtio/features_remove/1).
          .declare_only(ParamSpec::strings("virtio.features_remove", {})
                            .help("features taken out of virtio.features (the list driver.profile, the scenario, "
                                  "a sweep axis or --set gave it), before virtio.features_add: e.g. MRG_RXBUF to "
                                  "switch linux-6.x to big packets. Each must be in the list; --set takes "
                                  "NAME,NAME. The resolved virtio.features holds the result")
                            .from("none: the list as given")
                            .edit_of("virtio.features")
                            .items_from(all_feature_names()))
          .declare_only(ParamSpec::strings("virtio.features_add", {})
                            .help("features appended to virtio.features after virtio.features_remove; none may be "
                                  "in the list already; --set takes NAME,NAME. The resolved virtio.features holds "
                                  "the result")
                            .from("none: the list as given")
                            .edit_of("virtio.features")
                            .items_from(all_feature_names()))
          .bind(&S::offered,
                ParamSpec::strings("host.features", offered())
                    .help("features the device offers")
                    .from("every feature the model runs, as QEMU offers what its backend supports, but "
                          "RING_PACKED (QEMU's packed property is off unless set: packed=on)")
                    .must(check_names)
                    .items_from(all_feature_names()))
          .bind(&S::mtu, ParamSpec::integer("virtio.mtu", 1500, "bytes")
                             .range(68, 65535)
                             .help("the MTU in the device's configuration space; used only when MTU is "
                                   "negotiated")
                             .from("ETH_DATA_LEN = 1500"))
          .bind(&S::profile, ParamSpec::string("driver.profile", "", profiles())
                                 .help("a driver preset (vringsim profiles): fills virtio.features and the other "
                                       "keys it lists that the scenario does not set; its policy is \"auto\" "
                                       "unless it names one")
                                 .from("none: the keys' own defaults"));
  return b;
}

std::vector<std::string> edited_features(const FeatureEdit& edit, const std::string& source,
                                         const std::string& base_from) {
  const std::string list = base_from.empty() ? "virtio.features" : fmt::format("virtio.features ({})", base_from);
  auto check_names = [&](const std::vector<std::string>& names, const char* key) {
    std::set<std::string> known;
    for (const auto& n : all_feature_names()) known.insert(n);
    std::set<std::string> seen;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string ptr = fmt::format("/virtio/{}/{}", key, i);
      if (!find_feature(names[i])) {
        const std::string near = nearest_of(names[i], known);
        fail_input(source, ptr,
                   fmt::format("unknown feature \"{}\"{}", brief(names[i]),
                               near.empty() ? "" : fmt::format(" (did you mean {}?)", near)));
      }
      if (!seen.insert(names[i]).second) fail_input(source, ptr, fmt::format("{} appears twice", names[i]));
    }
  };
  check_names(edit.remove, "features_remove");
  check_names(edit.add, "features_add");
  if (edit.empty()) return edit.base;
  if (edit.base.empty())
    fail_input(source, edit.remove.empty() ? "/virtio/features_add" : "/virtio/features_remove",
               "there is no virtio.features list to edit (empty: the named policy's 2008 features); give "
               "driver.profile or virtio.features");
  auto holds = [](const std::vector<std::string>& names, const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  // Remove first, then add: an edit that would change nothing is a mistake
  // the user wants to hear about, not a no-op.
  std::vector<std::string> out = edit.base;
  for (size_t i = 0; i < edit.remove.size(); ++i) {
    const auto it = std::find(out.begin(), out.end(), edit.remove[i]);
    if (it == out.end())
      fail_input(source, fmt::format("/virtio/features_remove/{}", i),
                 fmt::format("{} is not in {}: removing it changes nothing", edit.remove[i], list));
    out.erase(it);
  }
  for (size_t i = 0; i < edit.add.size(); ++i) {
    const std::string ptr = fmt::format("/virtio/features_add/{}", i);
    if (holds(edit.remove, edit.add[i]))
      fail_input(source, ptr,
                 fmt::format("{} is removed by virtio.features_remove too: removing and adding it changes nothing",
                             edit.add[i]));
    if (holds(out, edit.add[i]))
      fail_input(source, ptr, fmt::format("{} is already in {}: adding it changes nothing", edit.add[i], list));
    out.push_back(edit.add[i]);
  }
  if (out.empty())
    fail_input(source, "/virtio/features_remove",
               "removes every feature of virtio.features, and an empty list means the named policy's 2008 "
               "features, not none");
  return out;
}

namespace {
/// The features `now` with the fewest changes after which the driver posts
/// `mode` buffers by receive_mode()'s rule: MRG_RXBUF for mergeable; for big,
/// none and guest GSO (TSO4 and TSO6 with the GUEST_CSUM they need) unless an
/// MTU above 1500 selects big already; for small, neither (an MTU above 1500
/// is the caller's). A feature whose dependency went goes with it
/// (GUEST_ECN needs GUEST_TSO4 or GUEST_TSO6).
FeatureSet features_for_mode(FeatureSet now, RxMode mode, bool mtu_above_1500) {
  using F = Feature;
  FeatureSet f = now;
  switch (mode) {
    case RxMode::Mergeable: f |= bit(F::MRG_RXBUF); break;
    case RxMode::Big:
      f &= ~bit(F::MRG_RXBUF);
      if (!(f & kGuestGso) && !mtu_above_1500) f |= bit(F::GUEST_CSUM) | bit(F::GUEST_TSO4) | bit(F::GUEST_TSO6);
      break;
    case RxMode::Small: f &= ~(bit(F::MRG_RXBUF) | kGuestGso); break;
  }
  for (bool again = true; again;) {
    again = false;
    for (const auto& info : feature_table())
      if (has(f, info.feature) && info.needs_any && !(f & info.needs_any)) {
        f &= ~bit(info.feature);
        again = true;
      }
  }
  return f;
}

std::string comma_joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

/// The --set arguments after which the scenario's features select `mode`,
/// keeping every other feature: the whole edit of the list the precedence
/// chain gave (`edit.base`, or `accepted` when the scenario edited nothing),
/// since a later --set of a key replaces an earlier one.
std::string mode_fix(const std::vector<std::string>& accepted, FeatureSet now, RxMode mode, uint32_t mtu,
                     const FeatureEdit& edit) {
  const bool mtu_above_1500 = has(now, Feature::MTU) && mtu > 1500;
  const FeatureSet want = features_for_mode(now, mode, mtu_above_1500);
  std::vector<std::string> sets;
  auto edit_set = [&sets](const char* key, const std::vector<std::string>& names, bool given) {
    if (!names.empty())
      sets.push_back(fmt::format("--set virtio.{}={}", key, comma_joined(names)));
    else if (given)
      sets.push_back(fmt::format("--set virtio.{}=[]", key));  // undo the scenario's own edit
  };
  if (want == 0) {
    // No list can say "no features" (empty is the named policy's 2008 set),
    // and that set posts the policy's own buffers.
    sets.push_back("--set virtio.features=[]");
    edit_set("features_remove", {}, !edit.remove.empty());
    edit_set("features_add", {}, !edit.add.empty());
  } else {
    const std::vector<std::string>& base = edit.empty() ? accepted : edit.base;
    FeatureSet in_base = 0;
    std::vector<std::string> remove, add;
    for (const auto& n : base) {
      const Feature f = find_feature(n)->feature;
      in_base |= bit(f);
      if (!has(want, f)) remove.push_back(n);
    }
    for (const auto& n : accepted)  // kept from the scenario's own virtio.features_add
      if (const Feature f = find_feature(n)->feature; !has(in_base, f) && has(want, f)) add.push_back(n);
    for (const auto& info : feature_table())
      if (has(want, info.feature) && !has(now, info.feature) && !has(in_base, info.feature)) add.push_back(info.name);
    edit_set("features_remove", remove, !edit.remove.empty());
    edit_set("features_add", add, !edit.add.empty());
  }
  if (mode == RxMode::Small && mtu_above_1500) sets.push_back("--set virtio.mtu=1500");
  std::string out;
  for (const auto& s : sets) out += (out.empty() ? "" : " ") + s;
  return out;
}
}  // namespace

VirtioSetup negotiate(const Config& cfg, std::optional<RxMode> policy_mode, const std::string& policy,
                      const std::string& source, const FeatureEdit& edit) {
  const VirtioSettings s = VirtioSettings::bindings().load(cfg);
  auto set_of = [](const std::vector<std::string>& names) {
    FeatureSet out = 0;
    for (const auto& n : names) out |= bit(find_feature(n)->feature);  // names were checked when the file was read
    return out;
  };
  const FeatureSet offered = set_of(s.offered);
  VirtioSetup v;
  for (size_t i = 0; i < s.offered.size(); ++i)
    if (!find_feature(s.offered[i])->modelled)
      fail_input(source, fmt::format("/host/features/{}", i),
                 fmt::format("{}: the model does not run this feature yet", s.offered[i]));
  if (s.accepted.empty()) {
    if (!policy_mode)
      fail_input(source, "/policy/name",
                 "\"auto\" picks the receive mode from the negotiated features: give virtio.features or "
                 "driver.profile, or name a policy");
    v.negotiated = legacy_features(*policy_mode);
    v.from_policy = true;
    if (const FeatureSet missing = v.negotiated & ~offered)
      fail_input(source, "/host/features",
                 fmt::format("the device does not offer {}, which policy \"{}\" needs", feature_names(missing)[0],
                             policy));
  } else {
    v.from_policy = false;
    v.negotiated = set_of(s.accepted);
    for (size_t i = 0; i < s.accepted.size(); ++i) {
      const FeatureInfo& f = *find_feature(s.accepted[i]);
      const std::string ptr = fmt::format("/virtio/features/{}", i);
      if (!f.modelled) fail_input(source, ptr, fmt::format("{}: the model does not run this feature yet", f.name));
      if (!has(offered, f.feature))
        fail_input(source, ptr,
                   fmt::format("the device does not offer {} (/host/features){}", f.name,
                               f.offered_by_default ? "" : "; QEMU offers it only when asked (packed=on): add it there"));
      if (f.needs_any && !(v.negotiated & f.needs_any)) {
        const auto needs = feature_names(f.needs_any);
        fail_input(source, ptr,
                   fmt::format("{} needs {}{}", f.name, needs[0], needs.size() > 1 ? " or " + needs[1] : ""));
      }
    }
  }
  if (s.mtu != 1500 && !has(v.negotiated, Feature::MTU))
    fail_input(source, "/virtio/mtu",
               fmt::format("{} is set but MTU is not negotiated (/virtio/features): the driver would use 1500",
                           s.mtu));
  v.mtu = has(v.negotiated, Feature::MTU) ? s.mtu : 1500;
  v.mode = receive_mode(v.negotiated, v.mtu);
  v.header_bytes = header_bytes(v.negotiated);
  if (policy_mode && *policy_mode != v.mode)
    fail_input(source, "/policy/name",
               fmt::format("policy \"{}\" posts {} buffers, but the features in /virtio/features make the driver "
                           "post {} buffers; {} makes them post {} buffers and keeps the other features",
                           policy, rx_mode_name(*policy_mode), rx_mode_name(v.mode),
                           mode_fix(s.accepted, v.negotiated, *policy_mode, s.mtu, edit), rx_mode_name(*policy_mode)));
  return v;
}

}  // namespace vringsim

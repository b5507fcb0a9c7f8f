// Virtio feature negotiation: the feature bits of the virtio spec (1.2,
// §5.1.3 for the network device, §6 for the reserved ring bits), which ones
// depend on which, and what the negotiated set decides in the model: the
// receive mode (as Linux virtnet_probe / virtnet_set_big_packets decide it),
// the header length, the ring layout and the notification path.
//
// The device offers `host.features`; the driver accepts `virtio.features`
// (or a driver profile's set); the negotiated set is the features the
// driver accepts, each of which the device must offer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/bindings.hpp"
#include "sim/core/config.hpp"

namespace vringsim {

/// Feature bit numbers: include/uapi/linux/virtio_net.h and virtio_config.h / virtio_ring.h.
enum class Feature : uint8_t {
  CSUM = 0,
  GUEST_CSUM = 1,
  CTRL_GUEST_OFFLOADS = 2,
  MTU = 3,
  MAC = 5,
  GUEST_TSO4 = 7,
  GUEST_TSO6 = 8,
  GUEST_ECN = 9,
  GUEST_UFO = 10,
  HOST_TSO4 = 11,
  HOST_TSO6 = 12,
  HOST_ECN = 13,
  HOST_UFO = 14,
  MRG_RXBUF = 15,
  STATUS = 16,
  CTRL_VQ = 17,
  MQ = 22,
  RING_INDIRECT_DESC = 28,
  RING_EVENT_IDX = 29,
  VERSION_1 = 32,
  RING_PACKED = 34,
  IN_ORDER = 35,
};

using FeatureSet = uint64_t;
constexpr FeatureSet bit(Feature f) { return FeatureSet{1} << static_cast<unsigned>(f); }
constexpr bool has(FeatureSet s, Feature f) { return (s & bit(f)) != 0; }

struct FeatureInfo {
  Feature feature;
  const char* name;       ///< the spec's name without the VIRTIO_NET_F_ / VIRTIO_F_ prefix
  FeatureSet needs_any;   ///< 0, or at least one of these must be negotiated too
  const char* effect;     ///< what it changes in the model ("" if nothing on the receive path)
  bool modelled = true;   ///< false: the model cannot run it yet (refused with a clear message)
  bool offered_by_default = true;  ///< in host.features' default (QEMU's default device offers it)
};
/// Every feature the model knows, by bit.
const std::vector<FeatureInfo>& feature_table();
const FeatureInfo* find_feature(std::string_view name);
std::vector<std::string> feature_names(FeatureSet s);
std::vector<std::string> all_feature_names();

/// How the driver posts receive buffers.
enum class RxMode : uint8_t { Small, Big, Mergeable };
const char* rx_mode_name(RxMode m);

/// virtnet_probe(): MRG_RXBUF -> mergeable; else guest GSO (TSO4, TSO6,
/// UFO) or an MTU above 1500 -> big packets; else small buffers.
RxMode receive_mode(FeatureSet negotiated, uint32_t mtu);
/// sizeof(struct virtio_net_hdr_mrg_rxbuf) (12) with MRG_RXBUF or VERSION_1,
/// else sizeof(struct virtio_net_hdr) (10).
uint32_t header_bytes(FeatureSet negotiated);

/// What the 2008 drivers negotiated for a receive mode: the features of a
/// run that names a policy and gives no virtio.features (no event index,
/// the legacy ring layout).
FeatureSet legacy_features(RxMode mode);

/// The setup of a run that names a policy of `mode` and gives no features.
struct VirtioSetup;
VirtioSetup legacy_setup(RxMode mode);

/// The scenario's virtio keys, bound to their parameters.
struct VirtioSettings {
  std::vector<std::string> accepted;  ///< virtio.features
  std::vector<std::string> offered;   ///< host.features
  uint32_t mtu = 1500;                ///< virtio.mtu (the MTU field of the config space)
  std::string profile;                ///< driver.profile
  static const Bindings<VirtioSettings>& bindings();
};

/// virtio.features_remove and virtio.features_add: single features taken out
/// of and put into the list the precedence chain gave virtio.features (a
/// driver profile's, the scenario file's, a sweep axis's or a --set's), so
/// that a profile's receive mode can be switched without retyping its list.
struct FeatureEdit {
  std::vector<std::string> base;    ///< virtio.features before the edit
  std::vector<std::string> remove;  ///< virtio.features_remove, applied first
  std::vector<std::string> add;     ///< virtio.features_add, appended after
  bool empty() const { return remove.empty() && add.empty(); }
};

/// `edit.base` without `edit.remove`, then with `edit.add` appended: the list
/// virtio.features holds after its edit. `base_from` says where the list came
/// from, for messages ("driver.profile \"linux-6.x\"'s list", or ""). Throws
/// InputError ("SOURCE: /virtio/features_remove/N: ...") for an unknown name,
/// a name given twice, removing one the list lacks, adding one it holds or
/// one the same edit removes (each of which would change nothing), an edit of
/// an empty list (the named policy's 2008 features, no list of its own) and
/// an edit that empties the list.
std::vector<std::string> edited_features(const FeatureEdit& edit, const std::string& source,
                                         const std::string& base_from);

/// The outcome of negotiation.
struct VirtioSetup {
  FeatureSet negotiated = 0;
  bool from_policy = true;  ///< no virtio.features: the named policy's 2008 set
  RxMode mode = RxMode::Mergeable;
  uint32_t header_bytes = 12;
  uint32_t mtu = 1500;  ///< the MTU the driver uses (1500 without the MTU feature)
  bool event_idx() const { return has(negotiated, Feature::RING_EVENT_IDX); }
  bool indirect() const { return has(negotiated, Feature::RING_INDIRECT_DESC); }
  bool packed() const { return has(negotiated, Feature::RING_PACKED); }
  /// VERSION_1: the modern interface (ring alignment, today's small buffers).
  bool modern() const { return has(negotiated, Feature::VERSION_1); }
  bool guest_gso() const;
};

/// Negotiates the features of a resolved configuration. `policy_mode` is the
/// mode of the policy the scenario names (nothing for policy "auto").
/// Throws InputError ("SOURCE: /pointer: ...") for an unknown feature, one
/// the device does not offer, a missing dependency, a feature the model does
/// not run, or "auto" with no features to decide from. A named policy whose
/// mode the features contradict is refused with the --set of
/// virtio.features_remove / _add that makes them agree, relative to `edit`'s
/// base when the scenario edited its list (a later --set of a key replaces
/// an earlier one, so the suggestion carries the whole edit).
VirtioSetup negotiate(const Config& cfg, std::optional<RxMode> policy_mode, const std::string& policy,
                      const std::string& source, const FeatureEdit& edit = FeatureEdit{});

}  // namespace vringsim

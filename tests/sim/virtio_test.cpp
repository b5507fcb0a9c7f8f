// Feature negotiation and driver profiles: what the negotiated set decides
// (receive mode, header, ring layout), and every way a feature list can be
// wrong, refused with one line naming the file and the pointer.
#include "sim/core/virtio.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sim/core/errors.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/split_ring.hpp"
#include "tests/sim/scenario_files.hpp"

namespace vringsim {
namespace {

FeatureSet set(std::initializer_list<Feature> fs) {
  FeatureSet s = 0;
  for (Feature f : fs) s |= bit(f);
  return s;
}

TEST(ReceiveMode, FollowsVirtnetProbe) {
  using F = Feature;
  EXPECT_EQ(receive_mode(set({F::MRG_RXBUF, F::GUEST_TSO4, F::GUEST_CSUM}), 1500), RxMode::Mergeable);
  EXPECT_EQ(receive_mode(set({F::GUEST_TSO4, F::GUEST_CSUM}), 1500), RxMode::Big);
  EXPECT_EQ(receive_mode(set({F::GUEST_TSO6, F::GUEST_CSUM}), 1500), RxMode::Big);
  EXPECT_EQ(receive_mode(set({F::GUEST_UFO, F::GUEST_CSUM}), 1500), RxMode::Big);
  EXPECT_EQ(receive_mode(set({F::MTU}), 9000), RxMode::Big);  // MTU above 1500, no GSO
  EXPECT_EQ(receive_mode(set({F::MTU}), 1500), RxMode::Small);
  EXPECT_EQ(receive_mode(set({F::GUEST_CSUM, F::GUEST_ECN, F::VERSION_1}), 1500), RxMode::Small);
  EXPECT_EQ(receive_mode(0, 1500), RxMode::Small);
}

TEST(HeaderBytes, TwelveWithMergeableBuffersOrVersion1) {
  EXPECT_EQ(header_bytes(0), 10u);
  EXPECT_EQ(header_bytes(bit(Feature::MRG_RXBUF)), 12u);
  EXPECT_EQ(header_bytes(bit(Feature::VERSION_1)), 12u);
  EXPECT_EQ(header_bytes(bit(Feature::GUEST_TSO4)), 10u);
}

TEST(FeatureTable, BitsAreTheSpecsAndNamesAreUnique) {
  EXPECT_EQ(static_cast<unsigned>(Feature::MRG_RXBUF), 15u);
  EXPECT_EQ(static_cast<unsigned>(Feature::RING_INDIRECT_DESC), 28u);
  EXPECT_EQ(static_cast<unsigned>(Feature::RING_EVENT_IDX), 29u);
  EXPECT_EQ(static_cast<unsigned>(Feature::VERSION_1), 32u);
  EXPECT_EQ(static_cast<unsigned>(Feature::RING_PACKED), 34u);
  std::set<std::string> names;
  FeatureSet bits = 0;
  for (const auto& f : feature_table()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_FALSE(has(bits, f.feature)) << f.name;
    bits |= bit(f.feature);
    EXPECT_EQ(find_feature(f.name), &f);
    // Every feature above bit 31 exists only with VERSION_1 (32-bit legacy feature field).
    if (static_cast<unsigned>(f.feature) > 32) {
      EXPECT_EQ(f.needs_any, bit(Feature::VERSION_1)) << f.name;
    }
  }
}

/// Scenario files that negotiate (tests/sim/scenario_files.hpp).
class Negotiation : public test_support::ScenarioFiles {};

TEST_F(Negotiation, ANamedPolicyWithoutFeaturesRunsAsIn2008) {
  const Scenario s = load(R"({"name": "x", "policy": {"name": "max-buffer"}})");
  EXPECT_EQ(s.run.policy, "max-buffer");
  EXPECT_TRUE(s.virtio.from_policy);
  EXPECT_EQ(s.virtio.mode, RxMode::Big);
  EXPECT_EQ(s.virtio.header_bytes, 10u);
  EXPECT_FALSE(s.virtio.event_idx());
  EXPECT_FALSE(has(s.virtio.negotiated, Feature::MRG_RXBUF));
  const Scenario m = load(R"({"name": "x"})");
  EXPECT_EQ(m.run.policy, "mergeable");
  EXPECT_TRUE(has(m.virtio.negotiated, Feature::MRG_RXBUF));
  EXPECT_EQ(m.virtio.header_bytes, 12u);
}

TEST_F(Negotiation, FeaturesWithoutAPolicyPickTheModeAsVirtnetProbeDoes) {
  const Scenario a = load(R"({"name": "x", "virtio": {"features": ["MRG_RXBUF", "RING_EVENT_IDX"]}})");
  EXPECT_EQ(a.config.string("policy.name"), "auto");
  EXPECT_EQ(a.run.policy, "mergeable");
  EXPECT_TRUE(a.virtio.event_idx());
  const Scenario b = load(R"({"name": "x", "virtio": {"features": ["GUEST_CSUM", "GUEST_TSO4"]}})");
  EXPECT_EQ(b.virtio.mode, RxMode::Big);
  EXPECT_EQ(policy_for_mode(RxMode::Big)->name, b.run.policy);
  const Scenario c = load(R"({"name": "x", "virtio": {"features": ["VERSION_1"]}})");
  EXPECT_EQ(c.run.policy, "small");
  EXPECT_EQ(c.virtio.header_bytes, 12u);
  const Scenario d = load(R"({"name": "x", "virtio": {"features": ["MTU"], "mtu": 9000}})");
  EXPECT_EQ(d.virtio.mode, RxMode::Big);
  EXPECT_EQ(d.virtio.mtu, 9000u);
}

TEST_F(Negotiation, ProfilesFillOnlyWhatTheScenarioDoesNotSet) {
  const Scenario l6 = load(R"({"name": "x", "driver": {"profile": "linux-6.x"}})");
  EXPECT_EQ(l6.run.policy, "mergeable");
  EXPECT_TRUE(l6.virtio.event_idx());
  EXPECT_TRUE(l6.virtio.indirect());
  EXPECT_TRUE(has(l6.virtio.negotiated, Feature::VERSION_1));
  EXPECT_EQ(l6.config.string("guest.refill_rule"), "today");
  const Scenario l26 = load(R"({"name": "x", "driver": {"profile": "linux-2.6.26"}})");
  EXPECT_EQ(l26.run.policy, "max-buffer");
  EXPECT_FALSE(l26.virtio.event_idx());
  EXPECT_EQ(l26.virtio.header_bytes, 10u);
  // Each era's latencies (docs/model.md §4b): no halt polling in 2008.
  EXPECT_EQ(l6.config.number("latency.kick_ns"), 1000.0);
  EXPECT_EQ(l6.config.number("latency.vcpu_wakeup_ns"), 5000.0);
  EXPECT_EQ(l6.config.number("host.halt_poll_ns"), 200000.0);
  EXPECT_EQ(l26.config.number("latency.kick_ns"), 5000.0);
  EXPECT_EQ(l26.config.number("latency.interrupt_ns"), 2000.0);
  EXPECT_EQ(l26.config.number("host.halt_poll_ns"), 0.0);
  // Without a profile the latencies are 0 (the model's outputs before them).
  const Scenario none = load(R"({"name": "x"})");
  EXPECT_EQ(none.config.number("latency.kick_ns"), 0.0);
  EXPECT_EQ(none.config.number("latency.vcpu_wakeup_ns"), 0.0);
  // The file's own key beats the profile; --set beats the file.
  const Scenario own = load(R"({"name": "x", "driver": {"profile": "linux-6.x"}, "guest": {"refill_rule": "2008"},
                                "latency": {"kick_ns": 0}})");
  EXPECT_EQ(own.config.string("guest.refill_rule"), "2008");
  EXPECT_EQ(own.config.number("latency.kick_ns"), 0.0);
  const Scenario set = load(R"({"name": "x", "driver": {"profile": "linux-6.x"}, "guest": {"refill_rule": "2008"}})",
                            {"guest.refill_rule=today"});
  EXPECT_EQ(set.config.string("guest.refill_rule"), "today");
  // A profile's features with one removed: without MRG_RXBUF, big packets.
  const Scenario big = load(R"({"name": "x", "driver": {"profile": "linux-6.x"},
      "virtio": {"features": ["GUEST_CSUM", "GUEST_TSO4", "RING_EVENT_IDX", "VERSION_1"]}})");
  EXPECT_EQ(big.virtio.mode, RxMode::Big);
}

TEST_F(Negotiation, BadFeatureListsAreRefusedWithThePointer) {
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["MRG_RXBUFS"]}})"),
            ": /virtio/features: element 0: unknown feature \"MRG_RXBUFS\" (did you mean MRG_RXBUF?)");
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["MRG_RXBUF", "MRG_RXBUF"]}})"),
            ": /virtio/features: element 1: MRG_RXBUF appears twice");
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["MRG_RXBUF"]}, "host": {"features": ["MAC"]}})"),
            ": /virtio/features/0: the device does not offer MRG_RXBUF (/host/features)");
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["GUEST_TSO4"]}})"),
            ": /virtio/features/0: GUEST_TSO4 needs GUEST_CSUM");
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["GUEST_ECN", "GUEST_CSUM"]}})"),
            ": /virtio/features/0: GUEST_ECN needs GUEST_TSO4 or GUEST_TSO6");
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["IN_ORDER", "MRG_RXBUF"]}})"),
            ": /virtio/features/0: IN_ORDER needs VERSION_1");
  // QEMU offers the packed ring only with packed=on: not in host.features' default.
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["VERSION_1", "RING_PACKED"]}})"),
            ": /virtio/features/1: the device does not offer RING_PACKED (/host/features); QEMU offers it only when "
            "asked (packed=on): add it there");
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["RING_PACKED"]}, "host": {"features": ["RING_PACKED"]}})"),
            ": /virtio/features/0: RING_PACKED needs VERSION_1");
  EXPECT_EQ(error_of(R"({"name": "x", "virtio": {"features": ["MRG_RXBUF"], "mtu": 9000}})"),
            ": /virtio/mtu: 9000 is set but MTU is not negotiated (/virtio/features): the driver would use 1500");
  EXPECT_EQ(error_of(R"({"name": "x", "driver": {"profile": "linux-7"}})"),
            ": /driver/profile: \"linux-7\" is not one of linux-2.6.26|linux-6.x");
}

TEST_F(Negotiation, APolicyAndFeaturesThatContradictAreRefusedNamingBoth) {
  EXPECT_EQ(error_of(R"({"name": "x", "policy": {"name": "mergeable"}, "driver": {"profile": "linux-2.6.26"}})"),
            ": /policy/name: policy \"mergeable\" posts mergeable buffers, but the features in /virtio/features "
            "make the driver post big buffers; --set virtio.features_add=MRG_RXBUF makes them post mergeable "
            "buffers and keeps the other features");
  EXPECT_EQ(error_of(R"({"name": "x", "policy": {"name": "max-buffer"}, "virtio": {"features": ["MRG_RXBUF"]}})"),
            ": /policy/name: policy \"max-buffer\" posts big buffers, but the features in /virtio/features make the "
            "driver post mergeable buffers; --set virtio.features_remove=MRG_RXBUF --set "
            "virtio.features_add=GUEST_CSUM,GUEST_TSO4,GUEST_TSO6 makes them post big buffers and keeps the other "
            "features");
  EXPECT_EQ(error_of(R"({"name": "x", "policy": {"name": "auto"}})"),
            ": /policy/name: \"auto\" picks the receive mode from the negotiated features: give virtio.features or "
            "driver.profile, or name a policy");
  // A device that does not offer what a 2008 policy needs.
  EXPECT_EQ(error_of(R"({"name": "x", "host": {"features": ["MAC", "CSUM"]}})"),
            ": /host/features: the device does not offer GUEST_CSUM, which policy \"mergeable\" needs");
}

TEST_F(Negotiation, RingBytesFollowTheLayoutTheFeaturesSelect) {
  // linux-6.x negotiates VERSION_1: a modern device's ring, aligned to 64 bytes.
  for (const auto& [profile, bytes] : {std::pair{"linux-6.x", 6726u}, std::pair{"linux-2.6.26", 10244u}}) {
    const Scenario s = load(fmt::format(R"({{"name": "x", "driver": {{"profile": "{}"}}}})", profile));
    auto p = make_policy(s.run.policy, PolicyContext{s.config, "", 1, s.virtio, 256});
    EXPECT_EQ(ring_figures(256, RingLayout::of(s.virtio), p->mergeable(), p->header_bytes(), p->nominal_posting())
                  .ring_bytes,
              bytes)
        << profile;
  }
}

RingFigures figures_of(const Scenario& s) {
  auto p = make_policy(s.run.policy, PolicyContext{s.config, "", 1, s.virtio, s.run.ring_size});
  return ring_figures(s.run.ring_size, RingLayout::of(s.virtio), p->mergeable(), p->header_bytes(),
                      p->nominal_posting());
}

TEST_F(Negotiation, AModernSplitRingIsAlignedToTheCacheLineALegacyOneToThePage) {
  // virtio_pci_modern.c setup_vq(): vring_create_virtqueue(index, num,
  // SMP_CACHE_BYTES, ...); the legacy interface keeps VIRTIO_PCI_VRING_ALIGN.
  // 256 entries with the event index: ALIGN(4096 + 2 (3 + 256), 64) = 4672,
  // + 6 + 2048 = 6726 (10246 with 4096).
  EXPECT_EQ(vring_size(256, true, 64), 6726u);
  EXPECT_EQ(vring_size(256, false, 4096), 10244u);
  EXPECT_EQ(vring_size(4096, false, 4096), 110596u);
  EXPECT_EQ(figures_of(load(R"({"name": "x", "driver": {"profile": "linux-6.x"}})")).ring_bytes, 6726u);
  // The same features on a legacy device (no VERSION_1): the page alignment.
  EXPECT_EQ(figures_of(load(R"({"name": "x", "virtio": {"features": ["MRG_RXBUF", "RING_EVENT_IDX"]}})")).ring_bytes,
            10246u);
  EXPECT_EQ(figures_of(load(R"({"name": "x", "virtio": {"features": ["MRG_RXBUF", "VERSION_1"]}})")).ring_bytes,
            6724u);  // no event index: ALIGN(4612, 64) = 4672, + 4 + 2048
  // The 2008 runs (a named policy, no features) keep the legacy layout.
  EXPECT_EQ(figures_of(load(R"({"name": "x", "policy": {"name": "max-buffer"}})")).ring_bytes, 10244u);
  EXPECT_EQ(figures_of(load(R"({"name": "x", "policy": {"name": "larger-ring"}, "ring": {"size": 4096}})")).ring_bytes,
            110596u);
}

TEST_F(Negotiation, TodaysSmallBuffersAreOneDescriptorOfHeaderPlusGoodPacketLen) {
  // add_recvbuf_small(): one buffer of hdr_len + GOOD_PACKET_LEN (14 + 4 +
  // 1500) = 12 + 1518 = 1530 bytes; 256 entries hold 256 of them.
  const Scenario s = load(R"({"name": "x", "virtio": {"features": ["VERSION_1"]}})");
  ASSERT_EQ(s.virtio.mode, RxMode::Small);
  auto p = make_policy(s.run.policy, PolicyContext{s.config, "", 1, s.virtio, 256});
  EXPECT_EQ(p->nominal_posting(), std::vector<uint32_t>{1530});
  const RingFigures f = figures_of(s);
  EXPECT_EQ(f.descriptors_per_slot_mtu, 1u);
  EXPECT_EQ(f.capacity_packets_mtu, 256u);
  EXPECT_EQ(f.capacity_packets_64k, 0u);
  EXPECT_EQ(f.posted_bytes_full, 256u * 1530);  // 391,680
  EXPECT_EQ(f.max_frame_bytes, 1518u);          // a VLAN-tagged MTU frame fits
  // One buffer never takes an indirect table (virtqueue_add_split: total_sg > 1).
  const Scenario ind = load(R"({"name": "x", "virtio": {"features": ["VERSION_1", "RING_INDIRECT_DESC"]}})");
  const RingFigures i = figures_of(ind);
  EXPECT_EQ(i.descriptors_per_posting, 1u);
  EXPECT_EQ(i.indirect_table_bytes, 0u);
  EXPECT_EQ(i.capacity_packets_mtu, 256u);
  // Nor do mergeable buffers (linux-6.x negotiates RING_INDIRECT_DESC).
  const RingFigures m = figures_of(load(R"({"name": "x", "driver": {"profile": "linux-6.x"}})"));
  EXPECT_EQ(m.indirect_table_bytes, 0u);
  EXPECT_EQ(m.descriptors_per_slot_mtu, 1u);
  // The 2008 small mode stays two descriptors: the 10-byte header and 1514.
  const Scenario old = load(R"({"name": "x", "policy": {"name": "small"}})");
  auto q = make_policy(old.run.policy, PolicyContext{old.config, "", 1, old.virtio, 256});
  EXPECT_EQ(q->nominal_posting(), (std::vector<uint32_t>{10, 1514}));
  const RingFigures o = figures_of(old);
  EXPECT_EQ(o.capacity_packets_mtu, 128u);
  EXPECT_EQ(o.posted_bytes_full, 128u * 1524);
}

TEST_F(Negotiation, TodaysBigPacketsTake19BuffersAndOneSlotWithIndirectDescriptors) {
  // linux-6.x without MRG_RXBUF: big packets of MAX_SKB_FRAGS (17) + 2 buffers.
  const char* gso = R"({"name": "x", "driver": {"profile": "linux-6.x"},
      "virtio": {"features": ["GUEST_CSUM", "GUEST_TSO4", "GUEST_TSO6", "VERSION_1", "RING_EVENT_IDX"%s]}})";
  auto with = [gso](const std::string& extra) {
    std::string t = gso;
    t.replace(t.find("%s"), 2, extra);
    return t;
  };
  const Scenario direct = load(with(""));
  ASSERT_EQ(direct.run.policy, "big-packets");
  auto p = make_policy(direct.run.policy, PolicyContext{direct.config, "", 1, direct.virtio, 256});
  std::vector<uint32_t> shape{12, 4096 - 32};
  shape.insert(shape.end(), 17, 4096);
  EXPECT_EQ(p->nominal_posting(), shape);
  const RingFigures d = figures_of(direct);
  EXPECT_EQ(d.descriptors_per_slot_mtu, 19u);
  EXPECT_EQ(d.capacity_packets_mtu, 13u);  // floor(256 / 19)
  EXPECT_EQ(d.unusable_descriptors, 256u - 13 * 19);
  EXPECT_EQ(d.indirect_table_bytes, 0u);
  EXPECT_EQ(d.posted_bytes_full, 13u * (12 + 4064 + 17 * 4096));
  const Scenario ind = load(with(R"(, "RING_INDIRECT_DESC")"));
  const RingFigures i = figures_of(ind);
  EXPECT_EQ(i.descriptors_per_slot_mtu, 1u);
  EXPECT_EQ(i.capacity_packets_mtu, 256u);
  EXPECT_EQ(i.capacity_packets_64k, 256u);
  EXPECT_EQ(i.indirect_table_bytes, 19u * 16);
  EXPECT_EQ(i.indirect_table_bytes_full, 256u * 19 * 16);
  EXPECT_EQ(i.posted_bytes_full, 256u * (12 + 4064 + 17 * 4096));
  // CONFIG_MAX_SKB_FRAGS=45: 47 buffers.
  const Scenario wide = load(with(""), {"guest.max_skb_frags=45"});
  EXPECT_EQ(figures_of(wide).descriptors_per_slot_mtu, 47u);
}

/// A linux-6.x guest on the packed ring, on a device that offers it.
constexpr const char* kPacked = R"({"name": "x", "driver": {"profile": "linux-6.x"},
    "virtio": {"features": ["CSUM", "GUEST_CSUM", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "HOST_TSO4",
                            "HOST_TSO6", "HOST_ECN", "MRG_RXBUF", "STATUS", "CTRL_VQ", "RING_INDIRECT_DESC",
                            "RING_EVENT_IDX", "VERSION_1", "RING_PACKED"]},
    "host": {"backend": "qemu", "features": ["CSUM", "GUEST_CSUM", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN",
                                             "HOST_TSO4", "HOST_TSO6", "HOST_ECN", "MRG_RXBUF", "STATUS", "CTRL_VQ",
                                             "RING_INDIRECT_DESC", "RING_EVENT_IDX", "VERSION_1", "RING_PACKED"]}})";

TEST_F(Negotiation, ThePackedRingTakesAnySizeAndTakes16NPlus8Bytes) {
  const Scenario s = load(kPacked, {"ring.size=300"});
  EXPECT_TRUE(s.virtio.packed());
  EXPECT_EQ(s.run.policy, "mergeable");
  EXPECT_EQ(figures_of(s).ring_bytes, 16u * 300 + 8);
  EXPECT_EQ(figures_of(load(kPacked)).ring_bytes, 4104u);
  // The same size on a split ring is refused, naming the --set that gave it.
  EXPECT_EQ(error_of(R"({"name": "x", "driver": {"profile": "linux-6.x"}})", {"ring.size=300"}),
            "--set ring.size=300: /ring/size: 300 is not a power of two (1..32768); a split ring needs one, "
            "RING_PACKED takes any size");
}

TEST_F(Negotiation, ThePackedRingIsRefusedWhereNoDeviceRunsItOrItsFaultsCannotExist) {
  // The kernel's vhost-net offers no packed ring.
  EXPECT_EQ(error_of(kPacked, {"host.backend=vhost"}),
            "--set host.backend=vhost: /host/backend: \"vhost\": the kernel's vhost-net does not offer RING_PACKED "
            "(VHOST_FEATURES, drivers/vhost/vhost.h); the packed ring runs with host.backend \"qemu\"");
  // No next links and no head indexes: no loop, no stray head.
  EXPECT_EQ(error_of(kPacked, {"faults.bad_chain.rate=0.1", "faults.bad_chain.kinds=zero_length,loop"}),
            "--set faults.bad_chain.kinds=zero_length,loop: /faults/bad_chain/kinds: loop cannot be posted on a "
            "packed ring (no head indexes, no next links): it takes zero_length, read_only and bad_indirect");
  // "all" means what the ring can take.
  EXPECT_NO_THROW(load(kPacked, {"faults.bad_chain.rate=0.1"}));
  EXPECT_NO_THROW(load(kPacked, {"faults.bad_chain.rate=0.1", "faults.bad_chain.kinds=read_only,bad_indirect"}));
}

TEST_F(Negotiation, WithoutGuestGsoAnMtuAbove1500SizesBigPacketsByTheMtu) {
  const Scenario s = load(R"({"name": "x", "virtio": {"features": ["MTU", "VERSION_1"], "mtu": 9000}})");
  ASSERT_EQ(s.run.policy, "big-packets");
  const RingFigures f = figures_of(s);
  EXPECT_EQ(f.descriptors_per_slot_mtu, 5u);  // DIV_ROUND_UP(9000, 4096) = 3 pages + 2
  EXPECT_EQ(f.max_frame_bytes, 4064u + 3 * 4096);  // the header's buffer holds only the header
}

TEST_F(Negotiation, The2008MaxBufferIsUnchangedByTheNewBigPackets) {
  const Scenario s = load(R"({"name": "x", "driver": {"profile": "linux-2.6.26"}})");
  EXPECT_EQ(s.run.policy, "max-buffer");
  const RingFigures f = figures_of(s);
  EXPECT_EQ(f.descriptors_per_slot_mtu, 20u);
  EXPECT_EQ(f.posted_bytes_full, 903024u);
}

TEST_F(Negotiation, EwmaRingFiguresForA64KiBStreamAreThoseOfTheConvergedPageBuffers) {
  const Scenario s = load(R"({"name": "x", "driver": {"profile": "linux-6.x"}})");
  auto p = make_policy(s.run.policy, PolicyContext{s.config, "", 1, s.virtio, 256});
  const RingFigures f = ring_figures(256, RingLayout::of(s.virtio), *p);
  EXPECT_EQ(f.bytes_per_posting, 1536u);  // MTU frames: ALIGN(12 + 1518, 64)
  EXPECT_EQ(f.capacity_packets_mtu, 256u);
  EXPECT_EQ(f.posted_bytes_full, 256u * 1536);
  // 4096-byte buffers, 7 to a premapped frag (six of 4096, one of 8176):
  // 15 per 64 KiB packet, 17 packets in 256 entries.
  EXPECT_EQ(f.descriptors_per_slot_64k, 15u);
  EXPECT_EQ(f.capacity_packets_64k, 17u);
  // Without premapping, 8 of exactly 4096 a frag: ceil((65549 + 12) / 4096).
  const Scenario n = load(R"({"name": "x", "driver": {"profile": "linux-6.x"}, "guest": {"rx_premapped": false}})");
  auto r = make_policy(n.run.policy, PolicyContext{n.config, "", 1, n.virtio, 256});
  const RingFigures h = ring_figures(256, RingLayout::of(n.virtio), *r);
  EXPECT_EQ(h.descriptors_per_slot_64k, 17u);
  EXPECT_EQ(h.capacity_packets_64k, 15u);
  // Page sizing does not adapt: the 2008 figures.
  const Scenario m = load(R"({"name": "x"})");
  auto q = make_policy(m.run.policy, PolicyContext{m.config, "", 1, m.virtio, 256});
  const RingFigures g = ring_figures(256, RingLayout::of(m.virtio), *q);
  EXPECT_EQ(g.descriptors_per_slot_64k, 17u);
  EXPECT_EQ(g.capacity_packets_64k, 15u);
  EXPECT_EQ(g.posted_bytes_full, 1048576u);
}

}  // namespace
}  // namespace vringsim

// One cost model for every policy (docs/model.md §4): CPU time per unit of work on
// the host's and the guest's CPUs. Policies only count work (GuestWork); they
// never carry a time constant, so differences between policies come out of
// the mechanism (chain lengths, refill work, copies), not out of fudge factors.
#pragma once

#include <string>
#include <vector>

#include "sim/core/bindings.hpp"
#include "sim/core/config.hpp"
#include "sim/core/cost_preset.hpp"
#include "sim/core/guest_work.hpp"
#include "sim/core/params.hpp"

namespace vringsim {

struct CostModel {
  // Host (the device backend: QEMU's I/O thread in 2008), nanoseconds.
  double host_per_packet_ns = 0;      ///< take a frame from the tap queue, dispatch it
  double host_per_descriptor_ns = 0;  ///< walk and map one descriptor of a chain
  double host_per_byte_ns = 0;        ///< copy into guest memory
  double host_per_kick_ns = 0;        ///< handle a guest kick (exit, wake the backend)
  double host_per_interrupt_ns = 0;   ///< inject an interrupt into the guest
  double host_per_segment_ns = 0;   ///< cut one MTU frame from a GSO packet (guest without GSO)
  // Guest (the virtio-net driver and the stack above it), nanoseconds.
  double guest_per_packet_ns = 0;        ///< build an skb and run it up the stack
  double guest_per_descriptor_ns = 0;    ///< add one descriptor, or detach one
  double guest_per_byte_copy_ns = 0;     ///< memcpy into the skb head
  double guest_per_page_alloc_ns = 0;    ///< one alloc_pages() call
  double guest_per_page_free_ns = 0;     ///< one __free_pages() call
  double guest_per_page_recycle_ns = 0;  ///< take or give a page on the driver's private list
  double guest_per_frag_carve_ns = 0;    ///< carve one buffer from a page_frag
  double guest_per_ewma_update_ns = 0;   ///< one update of the buffer-length EWMA
  double guest_per_indirect_table_ns = 0;  ///< allocate and later free one indirect table
  double guest_per_kick_ns = 0;          ///< the I/O exit a kick costs the vCPU
  double guest_per_interrupt_ns = 0;     ///< interrupt entry, injection and exit
  double guest_per_poll_ns = 0;          ///< one NAPI poll round
  double guest_per_xdp_ns = 0;           ///< run the attached XDP program on one frame
  double guest_per_byte_ns = 0;          ///< per byte handed to the stack: the reader's copy to user space

  /// The host's time per frame is an exponential draw with mean
  /// host_packet_ns() instead of exactly that (costs.host.service_distribution).
  bool host_service_exponential = false;

  /// Every cost, bound to its member (the preset key too, which fills none).
  static const Bindings<CostModel>& bindings();
  static void declare(ParamTable& table);
  static CostModel from(const Config& cfg);
  /// Where each cost of `cfg` comes from, for provenance: {key: {"ns": value,
  /// "default_ns", "origin"}}, the origin being the tag of the value's
  /// source: "calibrated", "estimate", "lguest-2008" ... (docs/guide/
  /// calibrating.md), from the preset that filled it (then also "preset": its name)
  /// or from the default's declaration; "given" when the scenario file, a
  /// sweep axis or --set gave the value.
  static Json origins(const Config& cfg, const CostPresetUse& preset = {});

  double guest_ns(const GuestWork& w) const {
    return static_cast<double>(w.packets) * guest_per_packet_ns +
           static_cast<double>(w.descriptors) * guest_per_descriptor_ns +
           static_cast<double>(w.bytes_copied) * guest_per_byte_copy_ns +
           static_cast<double>(w.page_allocs) * guest_per_page_alloc_ns +
           static_cast<double>(w.page_frees) * guest_per_page_free_ns +
           static_cast<double>(w.page_recycles) * guest_per_page_recycle_ns +
           static_cast<double>(w.frag_carves) * guest_per_frag_carve_ns +
           static_cast<double>(w.ewma_updates) * guest_per_ewma_update_ns +
           static_cast<double>(w.indirect_tables) * guest_per_indirect_table_ns +
           static_cast<double>(w.xdp_runs) * guest_per_xdp_ns +
           static_cast<double>(w.bytes_delivered) * guest_per_byte_ns;
  }
  double host_packet_ns(uint32_t descriptors, uint64_t bytes) const {
    return host_per_packet_ns + descriptors * host_per_descriptor_ns + static_cast<double>(bytes) * host_per_byte_ns;
  }
};

}  // namespace vringsim

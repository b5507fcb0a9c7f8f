#include "sim/world/host_device.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>

#include <algorithm>
#include <limits>

#include "sim/core/errors.hpp"

namespace sg4 = simgrid::s4u;

namespace vringsim {

HostDevice::HostDevice(Shared& shared, const CostModel& costs, Options opt, Aggregator& arrivals)
    : shared_(shared), costs_(costs), opt_(opt), arrivals_(arrivals) {
  fetch_next();
}

void HostDevice::fetch_next() {
  next_.reset();
  source_pending_ = false;
  if (opt_.stop_packets && emitted_ >= opt_.stop_packets) {
    shared_.source_exhausted = true;
    return;
  }
  TrafficSource& src = arrivals_.source();
  if (src.closed_loop()) {
    // Every fate up to the bus's safe time is known: hand them over first.
    const double safe = std::min(sg4::Engine::get_clock(), admitted_until_);
    shared_.bus.advance(safe);
    src.feedback_complete_until(safe);
  }
  const auto a = arrivals_.next();
  if (!a) {
    if (src.pending())
      source_pending_ = true;
    else
      shared_.source_exhausted = true;
    return;
  }
  next_ = Packet{emitted_++, a->len_bytes, a->time_s};
}

double HostDevice::known_until() const {
  return source_pending_ ? arrivals_.source().quiet_until() : std::numeric_limits<double>::infinity();
}

uint64_t HostDevice::admit_until(double t) {
  uint64_t dropped = 0;
  if (source_pending_) fetch_next();  // feedback may have come in since
  while (next_ && next_->arrival_s <= t) {
    const Packet p = *next_;
    ++shared_.admitted;
    Event e;
    e.time = p.arrival_s;
    e.kind = EventKind::Arrived;
    e.packet = p.id;
    e.len = p.len;
    shared_.bus.emit(e);
    if (tap_.size() >= opt_.tap_queue_packets) {
      e.kind = EventKind::Dropped;
      e.reason = static_cast<uint8_t>(DropReason::TapFull);
      e.arrival_s = p.arrival_s;
      shared_.bus.emit(e);
      ++dropped;
    } else {
      tap_.push_back(p);
    }
    fetch_next();
  }
  admitted_until_ = std::max(admitted_until_, t);
  return dropped;
}

void HostDevice::publish_due(double t) {
  uint32_t chains = 0;
  while (!pending_.empty() && pending_.front().time <= t) {
    chains += pending_.front().chains;
    ++published_packets_;
    published_bytes_ += pending_.front().packet.len;
    pending_.pop_front();
  }
  if (chains) shared_.ring.flush_used(chains);
}

void HostDevice::kick() { shared_.host_kick->release(); }

bool HostDevice::has_buffers(uint64_t need) const {
  // virtio_net_has_buffers(): with mergeable buffers the posted chains must
  // hold the whole frame; otherwise one chain is enough to try.
  if (opt_.mergeable) return shared_.ring.avail_bytes_upto(need) >= need;
  return shared_.ring.avail_pending() > 0;
}

uint64_t HostDevice::tap_bytes() const {
  uint64_t b = 0;
  for (const auto& p : tap_) b += p.len;
  return b;
}

uint64_t HostDevice::held_bytes() const {
  uint64_t b = 0;
  for (const auto& p : pending_) b += p.packet.len;
  return b;
}

void HostDevice::run() {
  VirtQueue& ring = shared_.ring;
  const double ns = 1e-9;
  double cursor = sg4::Engine::get_clock();
  while (true) {
    publish_due(cursor);
    const double burst_start = cursor;
    uint64_t fates = 0;
    uint32_t served = 0;
    // ---- one service burst: frames back to back while buffers last ----
    while (served < opt_.burst_packets && cursor < shared_.stop_time) {
      fates += admit_until(cursor);
      // A closed-loop source may still send something that arrives before
      // `cursor`: the device cannot serve at `cursor` until that is known.
      if (cursor >= known_until()) break;
      if (tap_.empty()) break;
      const Packet pkt = tap_.front();
      const uint64_t need = uint64_t{opt_.header_bytes} + pkt.len;
      auto drop_too_large = [&] {
        tap_.pop_front();
        Event e;
        e.time = cursor;
        e.kind = EventKind::Dropped;
        e.reason = static_cast<uint8_t>(DropReason::TooLarge);
        e.packet = pkt.id;
        e.len = pkt.len;
        e.arrival_s = pkt.arrival_s;
        shared_.bus.emit(e);
        ++fates;
        cursor += costs_.host_per_packet_ns * ns;  // read from tap, found no room
      };
      if (pkt.len > opt_.max_frame_bytes) {  // no posting of this ring can ever take it
        drop_too_large();
        continue;
      }
      if (!has_buffers(need)) break;
      if (!opt_.mergeable && ring.next_chain_bytes() < need) {
        // A chain too short for the frame: QEMU drops the frame and leaves
        // the chain posted (virtqueue_unpop).
        drop_too_large();
        continue;
      }
      tap_.pop_front();
      uint64_t left = need, chain_bytes = 0;
      uint32_t chains = 0, descs = 0;
      uint16_t first = 0;
      while (left > 0) {
        const uint16_t head = ring.pop_avail(&segs_);
        uint64_t cb = 0;
        for (const auto& s : segs_) cb += s.len;
        const uint64_t w = std::min(left, cb);
        ring.push_used(head, static_cast<uint32_t>(w));
        if (chains == 0) first = head;
        ++chains;
        descs += static_cast<uint32_t>(segs_.size());
        chain_bytes += cb;
        left -= w;
        ensure(opt_.mergeable || left == 0, "a non-mergeable frame spilled past its chain");
      }
      shared_.packet_at[first] = pkt;
      shared_.num_buffers_at[first] = chains;
      Event taken;
      taken.time = cursor;
      taken.kind = EventKind::Taken;
      taken.count = chains;
      taken.bytes = chain_bytes;
      taken.packet = pkt.id;
      taken.head = first;
      shared_.bus.emit(taken);
      cursor += costs_.host_packet_ns(descs, need) * ns;
      pending_.push_back({cursor, chains, pkt});
      Event used = taken;
      used.time = cursor;
      used.kind = EventKind::Used;
      used.len = static_cast<uint32_t>(need);
      shared_.bus.emit(used);
      ++served;
    }
    if (cursor > sg4::Engine::get_clock()) {
      shared_.emit_busy(EventKind::HostBusy, burst_start, cursor);
      // A waiting guest must learn when the first of these frames is done.
      if (served && shared_.guest_idle) shared_.guest_wake->release();
      sg4::this_actor::sleep_until(cursor);
      shared_.add_fates(fates);
      continue;
    }
    shared_.add_fates(fates);
    if (cursor >= shared_.stop_time) return;
    if (tap_.empty() || cursor >= known_until()) {
      if (next_ && next_->arrival_s <= known_until()) {
        cursor = next_->arrival_s;
      } else if (source_pending_) {
        // Nothing can arrive before the source's horizon; look again then.
        cursor = std::max(known_until(), sg4::Engine::get_clock());
      } else if (tap_.empty()) {
        return;  // the source is exhausted: nothing more will arrive
      }
      if (cursor > sg4::Engine::get_clock()) sg4::this_actor::sleep_until(cursor);
      continue;
    }
    // ---- no usable buffer: enable kicks, check again, wait for one ----
    ring.set_notification(true);
    if (has_buffers(uint64_t{opt_.header_bytes} + tap_.front().len)) {
      ring.set_notification(false);
      continue;
    }
    Event stall;
    stall.time = sg4::Engine::get_clock();
    stall.kind = EventKind::StallBegin;
    shared_.bus.emit(stall);
    shared_.host_kick->acquire();
    while (!shared_.host_kick->would_block()) shared_.host_kick->acquire();  // kicks at the same instant
    const double now = sg4::Engine::get_clock();
    stall.time = now;
    stall.kind = EventKind::StallEnd;
    shared_.bus.emit(stall);
    ring.set_notification(false);
    cursor = now + costs_.host_per_kick_ns * ns;
    shared_.emit_busy(EventKind::HostBusy, now, cursor);
    sg4::this_actor::sleep_until(cursor);
  }
}

}  // namespace vringsim

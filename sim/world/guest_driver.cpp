#include "sim/world/guest_driver.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>

#include <algorithm>

#include "sim/core/errors.hpp"
#include "sim/core/ring_faults.hpp"
#include "sim/engine/blocking.hpp"

namespace sg4 = simgrid::s4u;

namespace vringsim {

GuestDriver::GuestDriver(Shared& shared, RxPolicy& policy, GuestMemory& memory, const CostModel& costs, Options opt)
    : shared_(shared),
      events_(shared.run, shared.queue),
      policy_(policy),
      memory_(memory),
      costs_(costs),
      opt_(opt),
      postings_(shared.ring.size()),
      fault_rng_(opt.seed, "faults.bad_chain"),
      clock_(shared.run, shared.bell.driver_wakes_at, shared.bell.device_wakes_at) {
  clock_.enable(opt.lookahead);
  // Before anything runs: no publication may go unheard.
  shared_.on_interrupt = [this](SimTime t) { interrupt_raised(t); };
}

Step GuestDriver::stall_in_window() {
  if (const auto end = opt_.faults->active_at(FaultKind::VcpuStall, now())) return clock_.sleep_to(*end);
  return {};
}

void GuestDriver::post_fault(uint16_t head) {
  // A buggy or malicious driver: the chain just added goes out faulty.
  const auto& kinds = opt_.faults->bad_chain_kinds();
  const ChainFault kind = kinds[fault_rng_.uniform_int(0, kinds.size() - 1)];
  VirtQueue& ring = shared_.ring;
  bool done = true;
  switch (kind) {
    case ChainFault::HeadInFlight: done = add_stray_avail(ring, head); break;  // the same head added twice
    case ChainFault::HeadOutOfRange: done = add_stray_avail(ring, 0xffff); break;
    default: tamper(ring, head, kind); break;
  }
  if (done) ++injected_[static_cast<int>(kind)];
}

uint64_t GuestDriver::processing_after(SimTime t, uint64_t* bytes) const {
  uint64_t n = 0;
  for (const auto& p : in_poll_)
    if (p.delivery > t) {
      ++n;
      *bytes += p.len;
    }
  return n;
}

Step GuestDriver::busy_until(SimTime start, SimTime end) {
  events_.emit_busy(Cpu::Guest, start, end);
  return clock_.sleep_to(end);
}

void GuestDriver::took_vcpu() {
  // A shared vCPU may have been a while coming (never with lookahead: one queue).
  if (opt_.vcpu && opt_.vcpu->contended()) clock_.resync();
}

bool GuestDriver::should_refill() const {
  if (opt_.refill_2008) return posted_ < max_posted_ / 2;  // 2.6.27 virtnet_poll: vi->num < vi->max / 2
  // today's virtnet_receive(): num_free > min(budget, ring size) / 2
  return shared_.ring.num_free() > std::min<uint64_t>(opt_.napi_budget, shared_.ring.size()) / 2;
}

Task<void> GuestDriver::refill_on_vcpu(bool from_work) {
  if (opt_.vcpu) co_await opt_.vcpu->acquire();
  took_vcpu();
  co_await refill(from_work);
  if (opt_.vcpu) co_await opt_.vcpu->release();
}

Task<void> GuestDriver::refill(bool from_work) {
  // try_fill_recv(): add postings until the ring refuses one (2008: allocate
  // first, free on refusal; today: stop once no descriptor is free), then kick.
  co_await stall_if_descheduled();
  VirtQueue& ring = shared_.ring;
  const SimTime start = now();
  GuestWork work;
  uint64_t added = 0, bytes = 0, table_bytes = 0;
  uint32_t descriptors = 0;
  bool failed = false;
  const bool pressure = opt_.faults && opt_.faults->active_at(FaultKind::AllocFailure, start).has_value();
  while (true) {
    if (!opt_.refill_2008 && ring.num_free() == 0) break;
    if (pressure) {  // every allocation fails: skb and pages alike
      failed = true;
      break;
    }
    auto posting = policy_.make_posting(memory_, work);
    if (!posting) {
      failed = true;
      break;
    }
    uint32_t ring_descs = 0;
    const auto head = ring.add_inbuf(posting->segs, &ring_descs);
    if (!head) {
      // The 2008 driver allocates before it finds the ring full, and frees.
      policy_.release(std::move(*posting), memory_, work);
      policy_.recycle(std::move(*posting));  // its storage serves the next refill
      break;
    }
    work.descriptors += posting->segs.size();  // every buffer written, in the ring or in a table
    if (ring.table_bytes(*head) > 0) ++work.indirect_tables;
    descriptors += ring_descs;
    table_bytes += ring.table_bytes(*head);
    bytes += posting->bytes;
    ++added;
    postings_[*head] = std::move(*posting);
    if (opt_.faults && fault_rng_.chance(opt_.faults->bad_chain_rate())) post_fault(*head);
  }
  posted_ += added;
  max_posted_ = std::max(max_posted_, posted_);
  co_await busy_until(start, start + ns_to_sim_time(costs_.guest_ns(work)));
  const SimTime now = this->now();
  const SimTime retry_delay = to_sim_time(opt_.refill_retry_delay_s);
  if (failed) {
    events_.emit(RefillFailed{.time = seconds(now)});
    if (opt_.refill_2008) {
      // The ring may hold nothing the host can use and no interrupt will
      // come: retry later (refill_work, HZ/2).
      if (posted_ == 0) retry_at_ = now + retry_delay;
    } else {
      // Today: virtnet_receive() schedules refill_work at once; the work,
      // failing too, reschedules itself HZ/2 later (refill_work: still_empty).
      retry_at_ = from_work ? now + retry_delay : now;
    }
  }
  if (added == 0) co_return;
  const uint32_t published = ring.publish_avail();
  events_.emit(BuffersPosted{.time = seconds(now), .chains = published, .bytes = bytes, .descriptors = descriptors, .table_bytes = table_bytes});
  // The ring says whether the device wants a kick (it asks for them only
  // while it waits for buffers).
  const bool notified = shared_.kick_wanted(published);
  if (notified) {
    co_await clock_.sync();  // the device wakes at the kick's time
    co_await shared_.bell.send_kick();
  }
  events_.emit(KickDecided{.time = seconds(now), .notified = notified});
  if (notified) co_await busy_until(now, now + ns_to_sim_time(costs_.guest_per_kick_ns));  // the vCPU waits out the I/O exit
}

void GuestDriver::interrupt_raised(SimTime t) {
  // The device decided, as it published used entries at `t`, that the ring
  // asks for an interrupt (virtio_notify / vhost_signal), which the host
  // takes host.per_interrupt_ns to inject (HostDevice::signal_used).
  InterruptRaised irq{.time = seconds(t)};
  if (napi_ == Napi::Idle) {
    // It wakes the driver: the handler runs latency.interrupt_ns after the
    // injection, and latency.vcpu_wakeup_ns later still if the vCPU had
    // halted (idle longer than host.halt_poll_ns).
    const SimTime idle = opt_.vcpu ? opt_.vcpu->thread_wakes(t) : 0;
    double wakeup_ns = 0;
    if (static_cast<double>(idle) > opt_.latency.halt_poll_ns) {
      irq.vcpu_halted_s = (static_cast<double>(idle) - opt_.latency.halt_poll_ns) * 1e-9;
      wakeup_ns = opt_.latency.vcpu_wakeup_ns;
    }
    irq.vcpu_idle_s = seconds(idle);
    irq.wakeup_s = wakeup_ns * 1e-9;
    napi_ = Napi::Scheduled;
    handler_at_ = t + ns_to_sim_time(costs_.host_per_interrupt_ns + opt_.latency.interrupt_ns + wakeup_ns);
  } else {
    // One more before the driver's handler suppressed them (with the flags,
    // in the interrupt's latency; with the event index only when a stale
    // used_event comes round): its handler finds NAPI scheduled and does
    // nothing but cost the vCPU its entry and exit, in the next poll.
    ++late_interrupts_;
  }
  events_.emit(irq);
}

Task<void> GuestDriver::wait_for_interrupt() {
  if (opt_.vcpu) opt_.vcpu->thread_sleeps(now());
  while (true) {
    const SimTime now = this->now();
    shared_.publish_due(now);
    if (napi_ == Napi::Scheduled) {
      // vring_interrupt -> skb_recv_done -> virtqueue_napi_schedule: the
      // handler runs; what the device published meanwhile was decided
      // against interrupts still enabled.
      co_await clock_.sleep_to(handler_at_);
      co_await stall_if_descheduled();  // a descheduled vCPU runs no handler until it is back
      shared_.publish_due(this->now());
      shared_.ring.interrupt_taken();
      co_return;
    }
    if (retry_at_ && now >= *retry_at_) {
      // The refill timer runs the vCPU (its idle time is not counted as a halt).
      retry_at_.reset();
      if (opt_.vcpu) opt_.vcpu->thread_wakes(now);
      co_await refill_on_vcpu(true);
      if (opt_.vcpu) opt_.vcpu->thread_sleeps(this->now());
      continue;
    }
    // Sleep until the device wakes us, or until the next used entries the
    // device has finished are published (where it decides whether to
    // interrupt), or the refill retry is due.
    std::optional<SimTime> deadline = shared_.used.next_time();
    if (retry_at_ && (!deadline || *retry_at_ < *deadline)) deadline = retry_at_;
    if (deadline) {
      co_await clock_.sync();  // the timeout counts from the loop's clock
      const SimTime at = *deadline, from = clock_.now();
      const SimTime timeout = std::max<SimTime>(0, at - from);
      clock_.waiting_until(shared_.bell.interrupt_pending() ? from : from + timeout);
      const bool timed_out = co_await shared_.bell.sleep_until_woken(timeout);
      clock_.resync();
      if (timed_out) shared_.publish_due(this->now());  // woken by the deadline itself
    } else {
      waiting_forever_ = true;
      co_await clock_.waiting_for_other(shared_.bell.interrupt_pending());
      co_await shared_.bell.sleep_until_woken(std::nullopt);
      waiting_forever_ = false;
      clock_.resync();
    }
  }
}

Task<bool> GuestDriver::poll(double extra_ns) {
  // Queues sharing a vCPU take turns, a poll each (a pool with a vCPU per
  // queue never waits).
  CorePool* const vcpu = opt_.vcpu && opt_.vcpu->contended() ? opt_.vcpu : nullptr;
  if (vcpu) co_await vcpu->acquire();
  took_vcpu();
  co_await stall_if_descheduled();
  VirtQueue& ring = shared_.ring;
  const SimTime start = now();
  shared_.publish_due(start);
  // Observers may now see everything stamped up to here. With several queues
  // the other devices may not have admitted that far: the sampler advances.
  if (shared_.run.queues == 1) shared_.run.bus.advance(seconds(std::min(start, shared_.admitted_until)));
  // Interrupts that came after the one that scheduled NAPI cost their entry and exit here.
  double cost_ns = extra_ns + costs_.guest_per_poll_ns + late_interrupts_ * costs_.guest_per_interrupt_ns;
  late_interrupts_ = 0;
  uint32_t received = 0, handled = 0;  // packets; used buffers (the budget counts both)
  in_poll_.clear();
  while (handled < opt_.napi_budget && ring.used_pending() > 0) {
    const UsedElem first = *ring.get_buf();
    ++handled;
    if (first.len < policy_.header_bytes()) {
      drop_short_buffer(first, start, cost_ns);
      continue;
    }
    receive_frame(first, start, cost_ns);
    ++received;
  }
  co_await busy_until(start, start + ns_to_sim_time(cost_ns));
  in_poll_.clear();
  co_await clock_.sync_if_ending();  // these may be the last fates: the run ends now
  shared_.add_fates(received);
  if (should_refill()) co_await refill();
  bool again = handled == opt_.napi_budget;  // budget spent: poll again
  // virtqueue_napi_complete(): virtqueue_enable_cb_prepare, then
  // virtqueue_poll: if more arrived meanwhile, disable and poll again
  // (virtqueue_napi_schedule). What the device publishes until then was
  // decided against interrupts disabled.
  if (!again) {
    shared_.publish_due(now());
    if (!ring.enable_cb()) {
      ring.disable_cb();
      again = true;
    } else {
      napi_ = Napi::Idle;  // interrupts stay enabled while the driver sleeps
    }
  }
  if (vcpu) co_await vcpu->release();
  co_return again;
}

Posting& GuestDriver::posting_of(uint32_t head) {
  Posting& slot = postings_[head];
  ensure(!slot.segs.empty(), "the device returned a chain the driver never posted");
  return slot;
}

void GuestDriver::spend_posting(uint32_t head) {
  policy_.recycle(std::move(posting_of(head)));
  postings_[head] = Posting{};
}

void GuestDriver::drop_short_buffer(const UsedElem& used, SimTime start, double& cost_ns) {
  // receive_buf(): "short packet", rx_length_errors++, the buffer is freed.
  GuestWork work;
  Posting& posting = posting_of(used.id);
  work.descriptors += posting.segs.size();
  policy_.release(std::move(posting), memory_, work);
  spend_posting(used.id);
  --posted_;
  ++rx_length_errors_;
  cost_ns += costs_.guest_ns(work);
  events_.emit(RxLengthError{.time = seconds(start + ns_to_sim_time(cost_ns)), .head = static_cast<uint16_t>(used.id)});
}

void GuestDriver::receive_frame(const UsedElem& first, SimTime start, double& cost_ns) {
  // The frame and, with mergeable buffers, how many buffers it spans are in
  // its first buffer's header (num_buffers): collect them all, build the skb.
  VirtQueue& ring = shared_.ring;
  const Packet pkt = shared_.packet_at[first.id];
  const uint32_t nbuf = shared_.num_buffers_at[first.id];
  bufs_.clear();
  heads_.clear();
  GuestWork work;
  work.packets = 1;
  uint32_t written_descs = 0;
  for (uint32_t i = 0; i < nbuf; ++i) {
    const UsedElem e = i == 0 ? first : [&] {
      auto more = ring.get_buf();
      ensure(more.has_value(), "a merged frame's buffers were not all on the used ring");
      return *more;
    }();
    Posting& posting = posting_of(e.id);
    work.descriptors += posting.segs.size();
    uint64_t off = 0;
    for (const auto& seg : posting.segs) {
      if (off >= e.len) break;
      ++written_descs;
      off += seg.len;
    }
    bufs_.push_back({&posting, e.len});
    heads_.push_back(static_cast<uint16_t>(e.id));
  }
  // An attached XDP program runs on the frame before any skb is built
  // (receive_small_xdp / receive_mergeable_xdp). XDP_DROP frees the buffers
  // there (put_page, as a short buffer's are); XDP_PASS goes on as without it.
  if (opt_.xdp_action != DriverSettings::XdpAction::None) ++work.xdp_runs;  // (guest.xdp alone: the layout only)
  if (opt_.xdp_action == DriverSettings::XdpAction::Drop) {
    work.packets = 0;
    for (const ReturnedBuffer& b : bufs_) policy_.release(std::move(*b.posting), memory_, work);
    ++xdp_drops_;
  } else {
    policy_.receive(bufs_, pkt.len, memory_, work);
    work.bytes_delivered = pkt.len;
  }
  for (uint16_t h : heads_) spend_posting(h);
  posted_ -= nbuf;
  ++collected_;
  collected_bytes_ += pkt.len;
  cost_ns += costs_.guest_ns(work);
  // Each frame's delivery and the poll's end: the poll's start plus its cost
  // so far, entering the clock by one rounding (the last frame's delivery is
  // the poll's end).
  const SimTime t = start + ns_to_sim_time(cost_ns);
  events_.emit(FrameDelivered{.time = seconds(t),
                              .packet = pkt.id,
                              .len = pkt.len,
                              .buffers = written_descs,
                              .arrival_s = seconds(pkt.arrival)});
  in_poll_.push_back({t, pkt.len});
}

Task<void> GuestDriver::run() {
  // Interrupts are enabled from the start (a ring's avail flags start at 0)
  // and until an interrupt schedules NAPI.
  co_await refill_on_vcpu(false);  // virtnet_probe(): fill the ring before the device starts
  while (true) {
    co_await wait_for_interrupt();
    napi_ = Napi::Polling;
    shared_.ring.disable_cb();  // virtqueue_napi_schedule: no interrupts while polling
    double extra = costs_.guest_per_interrupt_ns;
    while (co_await poll(extra)) extra = 0;
  }
}

}  // namespace vringsim

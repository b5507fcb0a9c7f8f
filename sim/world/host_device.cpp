#include "sim/world/host_device.hpp"

#include <fmt/format.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

#include "sim/core/errors.hpp"
#include "sim/engine/blocking.hpp"

namespace sg4 = simgrid::s4u;

namespace vringsim {

HostDevice::HostDevice(Shared& shared, const CostModel& costs, Options opt, Dispatcher& feed)
    : shared_(shared),
      events_(shared.run, shared.queue),
      costs_(costs),
      opt_(opt),
      feed_(feed),
      service_rng_(opt.seed, "costs.host.service"),
      clock_(shared.run, shared.bell.device_wakes_at, shared.bell.driver_wakes_at) {
  clock_.enable(opt.lookahead);
  bool windows = false;
  if (opt_.faults)
    for (int k = 0; k < kFaultKinds; ++k) windows |= opt_.faults->configured(static_cast<FaultKind>(k));
  drop_runs_ = opt_.drop_runs && !feed_.closed_loop() && !windows;
  shared_.on_signal = [this](SimTime t) { signal_used(t); };
  fetch_next(0, 0);
}

void HostDevice::signal_used(SimTime t) {
  // vhost_signal() -> eventfd_signal() on the irqfd (QEMU: virtio_notify()
  // -> the irq line): host.per_interrupt_ns of host CPU. On shared host cores
  // this does not queue for a core: the thread that used the buffers signals
  // on the core it already holds; the span counts in the host's utilisation.
  events_.emit_busy(Cpu::Host, t, t + ns_to_sim_time(costs_.host_per_interrupt_ns));
}

void HostDevice::fetch_next(SimTime until, SimTime now) {
  next_.reset();
  source_pending_ = false;
  if (ClosedLoop* src = feed_.closed_loop()) {
    // Every fate up to the bus's safe time is known: hand them over first.
    const SimTime safe = std::min(now, shared_.admitted_until);
    shared_.run.bus.advance(seconds(safe));
    src->feedback_complete_until(seconds(safe));
  }
  take(feed_.next(shared_.queue, until));
}

void HostDevice::take(const Dispatcher::Answer& a) {
  next_.reset();
  source_pending_ = false;
  switch (a.status) {
    case Dispatcher::Status::Frame: next_ = a.packet; break;
    case Dispatcher::Status::Pending:
      source_pending_ = true;
      pending_until_ = a.quiet_until;
      break;
    case Dispatcher::Status::Exhausted: shared_.mark_exhausted(); break;
  }
}

SimTime HostDevice::known_until() const {
  if (!source_pending_) return kNever;
  // A closed-loop sender's quiet time moves as feedback comes in.
  return feed_.closed_loop() ? to_sim_time(feed_.closed_loop()->quiet_until()) : pending_until_;
}

uint64_t HostDevice::admit_until(SimTime t, SimTime now) {
  uint64_t dropped = 0;
  // Feedback (or other queues' frames) may have come in since.
  if (source_pending_ && (feed_.closed_loop() || t >= pending_until_)) fetch_next(t, now);
  while (next_ && next_->arrival <= t) {
    const Packet p = *next_;
    ++shared_.run.admitted;
    admitted_.add(p.len);
    uint32_t capacity = opt_.tap_queue_packets;
    if (opt_.faults && opt_.faults->active_at(FaultKind::TapOverflow, p.arrival))
      capacity = std::min(capacity, opt_.faults->tap_overflow_capacity());
    // A broken device reads nothing from the tap: every frame is lost.
    // Otherwise a frame that finds the tap full is dropped (vhost's batch
    // has left the tap's ring).
    const bool lost = broken_ || tap_.size() - batch_ >= capacity;
    const DropReason why = broken_ ? DropReason::DeviceBroken : DropReason::TapFull;
    if (lost && drop_runs_) {
      drop_on_arrival(p, why);
      dropped += 1 + skip_dropped(t);  // and the next frame is fetched
      continue;
    }
    flush_run();  // events in arrival order
    events_.emit(FrameArrived{.time = seconds(p.arrival), .packet = p.id, .len = p.len});
    if (lost) {
      drop(p, p.arrival, why);
      ++dropped;
    } else {
      tap_.push_back(p);
    }
    fetch_next(t, now);
  }
  // Nothing may wait past here: the bus can move up to admitted_until.
  flush_run();
  shared_.admitted_until = std::max(shared_.admitted_until, t);
  return dropped;
}

void HostDevice::drop(const Packet& p, SimTime t, DropReason why) {
  dropped_[static_cast<int>(why)].add(p.len);
  events_.emit(
      FrameDropped{.time = seconds(t), .packet = p.id, .len = p.len, .arrival_s = seconds(p.arrival), .reason = why});
}

void HostDevice::drop_on_arrival(const Packet& p, DropReason why) {
  dropped_[static_cast<int>(why)].add(p.len);
  const SimTime t = p.arrival;
  const bool measured = t >= opt_.warmup;
  if (run_.count && (why != run_.reason || t > run_.bound || measured != run_.measured)) flush_run();
  if (run_.count == 0) {
    run_.first = t;
    run_.first_packet = p.id;
    run_.reason = why;
    run_.measured = measured;
    run_.bound = run_bound(t);
  }
  ++run_.count;
  run_.bytes += p.len;
  run_.last = t;
}

uint64_t HostDevice::skip_dropped(SimTime t) {
  // Every later arrival up to `t` finds the tap as the frame just dropped
  // found it: nothing leaves the tap here, a broken device stays broken, and
  // with no fault window (drop_runs_) its capacity stays. Those the run can
  // take (up to its bound; on its side of the warm-up) the source counts
  // without making them into packets.
  SkippedFrames s;
  const SimTime below = run_.measured ? kNever : opt_.warmup;
  take(feed_.skip(shared_.queue, t, std::min(t, run_.bound), below, s));
  if (s.packets == 0) return 0;
  shared_.run.admitted += s.packets;
  admitted_.packets += s.packets;
  admitted_.bytes += s.bytes;
  Count& d = dropped_[static_cast<int>(run_.reason)];
  d.packets += s.packets;
  d.bytes += s.bytes;
  run_.count += s.packets;
  run_.bytes += s.bytes;
  run_.last = to_sim_time(s.last);  // an arrival, entering the clock by the rule as in Dispatcher::make_packet
  return s.packets;
}

void HostDevice::flush_run() {
  if (run_.count == 0) return;
  events_.emit(FramesDropped{.time = seconds(run_.first),
                             .packet = run_.first_packet,
                             .count = run_.count,
                             .bytes = run_.bytes,
                             .last = seconds(run_.last),
                             .reason = run_.reason});
  run_.count = 0;
  run_.bytes = 0;
}

SimTime HostDevice::run_bound(SimTime t) const {
  // The sampler reads the metrics at k x sample_interval (k = 1, 2, ...,
  // on the run's clock: RunLoop::start_sampler), having dispatched every
  // event up to that instant: a run must not straddle one. Nothing after the
  // stop time is dispatched.
  const SimTime stop = shared_.stop_time();
  if (t > stop) return kNever;
  const SimTime interval = opt_.sample_interval;
  if (!(interval > 0)) return stop;
  // The first k with k x interval >= t.
  const SimTime k = std::max<SimTime>(1, (t + interval - 1) / interval);
  return std::min(k * interval, stop);
}

void HostDevice::break_device(SimTime t) {
  // virtio_error(): VIRTIO_CONFIG_S_NEEDS_RESET; the device stops using the
  // ring until the driver resets it (the model's guest never does).
  broken_ = true;
  broken_at_ = t;
  events_.emit(DeviceBroke{.time = seconds(t)});
  uint64_t lost = 0;
  for (const Packet& p : tap_) {
    drop(p, t, DropReason::DeviceBroken);
    ++lost;
  }
  tap_.clear();
  batch_ = 0;
  // Counted as the burst ends (run): it ends at once, with no wait before.
  lost_fates_ += lost;
}

HostDevice::Screen HostDevice::screen_front(SimTime t, bool in_frame, uint64_t* front_bytes) {
  VirtQueue& ring = shared_.ring;
  while (true) {
    const ChainFault f = ring.check_next_chain(opt_.max_chain_descriptors, front_bytes);
    if (f == ChainFault::None) return Screen::Ok;
    ++bad_chains_[static_cast<int>(f)];
    no_progress(t);
    BadChainFound e{.time = seconds(t), .fault = f};
    if (!opt_.drop_bad_chains) {
      events_.emit(e);
      break_device(t);
      return Screen::Broken;
    }
    const auto head = ring.discard_avail();
    e.consumed = 1;
    if (head) {
      e.head = *head;
      e.bytes = ring.chain_bytes(*head);
      e.descriptors = ring.ring_descriptors(*head);
      e.table_bytes = ring.table_bytes(*head);
    }
    events_.emit(e);
    if (head) {
      if (in_frame) {
        discarded_.push_back(*head);
      } else {
        flush_batch(t);  // entries stay in ring order
        ring.push_used(*head, 0);
        shared_.used.push({.time = t, .chains = 1});
        if (shared_.bell.driver_waiting()) return Screen::Wake;  // a waiting driver must learn when to look
      }
    }
  }
}

bool HostDevice::has_buffers(uint64_t need) const {
  // virtio_net_has_buffers(): with mergeable buffers the posted chains must
  // hold the whole frame; otherwise one chain is enough to try. The 2008
  // QEMU read the tap at all only while they held host.can_receive_bytes
  // (do_virtio_net_can_receive(n, VIRTIO_NET_MAX_BUFSIZE)). The ring keeps
  // a running count of the posted bytes (VirtQueue::has_avail_bytes): no
  // walk of the ~17 chains a 64 KiB frame needs, each time one comes.
  if (opt_.mergeable) {
    const uint64_t want = opt_.vhost ? need : std::max(need, opt_.can_receive_bytes);
    return shared_.ring.has_avail_bytes(want, opt_.max_chain_descriptors);
  }
  return shared_.ring.avail_pending() > 0;
}

uint64_t HostDevice::tap_bytes() const {
  uint64_t b = 0;
  for (const auto& p : tap_) b += p.len;
  return b;
}

Task<void> HostDevice::run() {
  SimTime cursor = now();
  while (true) {
    shared_.publish_due(cursor);
    const bool share = opt_.cores && opt_.cores->contended();
    if (kick_arrived(cursor)) {
      co_await handle_kick(cursor, share);
      continue;
    }
    // Descheduled (backend_pause): frames keep arriving (and overflowing the tap).
    if (const auto end = pause_end(cursor)) {
      co_await clock_.sleep_to(*end);
      cursor = *end;
      continue;
    }
    // Shared host cores: a backend with frames waits for a core, holds it for
    // one burst, then queues again behind the others (cores.hpp).
    const bool holding = share && co_await acquire_core(cursor);
    const SimTime burst_start = cursor;
    Burst burst;
    serve_burst(cursor, burst);
    while (burst.wake) {  // a faulty chain returned: the sleeping driver hears of it first
      co_await wake_driver_to_look();
      cursor = std::max(cursor, now());  // the driver ran at the clock's instant: the device goes on from there
      serve_burst(cursor, burst);
    }
    if (lost_fates_) co_await add_fates(std::exchange(lost_fates_, 0));  // the tap of a device that broke
    if (burst.served) asleep_ = false;  // it ran: a later wait starts awake
    if (burst.served > 0 || burst.fates > 0)
      progressed(cursor);
    else
      no_progress(cursor);
    if (cursor > now()) {
      events_.emit_busy(Cpu::Host, burst_start, cursor);
      // A sleeping guest must learn when the first of these frames is published.
      if (burst.served) co_await wake_driver_to_look();
      co_await clock_.sleep_to(cursor);
      if (holding) co_await opt_.cores->release(opt_.core_thread);
      co_await add_fates(burst.fates);
      continue;
    }
    // Frames served in no time (zero host costs) are done now: a sleeping
    // guest must still hear of them, or the device below waits for a kick
    // the guest never sends (it once delivered nothing, exit 0).
    if (burst.served) {
      co_await wake_driver_to_look();
      cursor = std::max(cursor, now());  // what the device does next, it does after what the driver did
    }
    if (holding) co_await opt_.cores->release(opt_.core_thread);
    co_await add_fates(burst.fates);
    if (cursor >= shared_.stop_time()) co_return;
    if (tap_.empty() || cursor >= known_until()) {
      if (!co_await wait_for_traffic(cursor)) co_return;  // the source is exhausted
      continue;
    }
    co_await stall_for_buffers(cursor, share);
  }
}

SimTime HostDevice::kick_arrival() const {
  // The kick reaches the device latency.kick_ns after the guest sent it, and
  // the backend thread, asleep meanwhile, runs latency.backend_wakeup_ns
  // later still.
  return shared_.bell.kick_sent_at + ns_to_sim_time(opt_.latency.kick_ns + opt_.latency.backend_wakeup_ns);
}

bool HostDevice::kick_arrived(SimTime cursor) const {
  // A kick that came while the device was running (or idle with nothing to
  // do) and has reached it by now: vhost runs handle_rx once more (the work
  // was queued again by the eventfd: vhost_poll_wakeup), which starts by
  // disabling notifications; QEMU's main loop runs the queue's handler
  // (virtio_net_handle_rx: qemu_flush_queued_packets). Either way the host
  // pays host.per_kick_ns, and no token is left for a later stall.
  return shared_.bell.kick_pending() && kick_arrival() <= cursor;
}

Task<void> HostDevice::handle_kick(SimTime& cursor, bool share) {
  shared_.bell.take_kick();
  if (opt_.vhost) shared_.ring.set_notification(false);
  co_await pay_kick(cursor, share);
}

Task<void> HostDevice::pay_kick(SimTime& cursor, bool share) {
  // Handling the kick takes host CPU too: on shared cores, a core's turn.
  if (share) {
    clock_.waiting_until(kAnyTime);
    co_await opt_.cores->acquire(opt_.core_thread);
    clock_.resync();
  }
  const SimTime start = std::max(cursor, now());
  cursor = start + ns_to_sim_time(costs_.host_per_kick_ns);
  events_.emit_busy(Cpu::Host, start, cursor);
  co_await clock_.sleep_to(cursor);
  if (share) co_await opt_.cores->release(opt_.core_thread);
}

std::optional<SimTime> HostDevice::pause_end(SimTime cursor) const {
  if (!opt_.faults) return std::nullopt;
  return opt_.faults->active_at(FaultKind::BackendPause, cursor);
}

Task<bool> HostDevice::acquire_core(SimTime& cursor) {
  co_await add_fates(admit_until(cursor, now()));
  if (tap_.empty() || cursor >= known_until() || cursor >= shared_.stop_time()) co_return false;
  co_await clock_.sync();
  clock_.waiting_until(kAnyTime);  // when a core frees: unknown
  co_await opt_.cores->acquire(opt_.core_thread);
  clock_.resync();
  if (now() > cursor) {
    cursor = now();
    shared_.publish_due(cursor);
  }
  co_return true;
}

void HostDevice::serve_burst(SimTime& cursor, Burst& b) {
  // Frames back to back while buffers last, up to the burst size; vhost-net
  // yields its turn after VHOST_NET_PKT_WEIGHT frames or VHOST_NET_WEIGHT
  // bytes (vhost_exceeds_weight), which on shared cores is what a turn is.
  b.wake = false;
  const uint32_t limit = opt_.vhost ? kVhostNetPktWeight : opt_.burst_packets;
  bool paused = false;
  while (b.served < limit && cursor < shared_.stop_time() && !(opt_.vhost && b.bytes >= kVhostNetWeight)) {
    if (!b.retry_front) {
      if (opt_.faults && opt_.faults->active_at(FaultKind::BackendPause, cursor)) {
        paused = true;
        break;
      }
      b.fates += admit_until(cursor, now());
      // A closed-loop source may still send something that arrives before
      // `cursor`: the device cannot serve at `cursor` until that is known.
      if (cursor >= known_until() || tap_.empty()) break;
      // handle_rx() begins with vhost_disable_notify(): no kicks while it runs.
      if (opt_.vhost && !b.looked) shared_.ring.set_notification(false);
      b.looked = true;
    }
    b.retry_front = false;
    const uint32_t len = tap_.front().len;
    const Served r = serve_front(cursor, b.fates);
    if (r == Served::Wake) {  // nothing before the screening has changed: the same frame, again
      b.wake = b.retry_front = true;
      return;
    }
    if (r == Served::Stop) break;
    if (r == Served::Frame) {
      ++b.served;
      b.bytes += len;
    }
  }
  // handle_rx() returns (the socket empty, no buffers, its weight spent):
  // what it has used is published and signalled (vhost_net_signal_used at
  // out:). A thread descheduled mid-turn (backend_pause) signals nothing
  // until it runs again.
  if (!paused) flush_batch(cursor);
}

void HostDevice::flush_batch(SimTime t) {
  if (batch_used_.chains == 0) return;
  batch_used_.time = std::max(batch_used_.time, t);
  shared_.used.push(batch_used_);
  batch_used_ = {};
}

HostDevice::Served HostDevice::serve_front(SimTime& cursor, uint64_t& fates) {
  // vhost-net peeks at the next frame through its own batch: when that is
  // empty it moves up to VHOST_NET_BATCH frames out of the tap's ring at once
  // (vhost_net_buf_produce), whether or not buffers are posted.
  if (opt_.vhost && batch_ == 0) batch_ = static_cast<uint32_t>(std::min<size_t>(kVhostNetBatch, tap_.size()));
  const Packet pkt = tap_.front();
  const uint64_t need = uint64_t{opt_.header_bytes} + pkt.len;
  if (pkt.len > opt_.max_frame_bytes) {  // no posting of this ring can ever take it
    drop_too_large(cursor);
    ++fates;
    return Served::Dropped;
  }
  uint64_t front_bytes = 0;
  switch (screen_front(cursor, false, &front_bytes)) {
    case Screen::Ok: break;
    case Screen::Broken: return Served::Stop;
    case Screen::Wake: return Served::Wake;  // then here again: nothing before the screening has changed
  }
  if (!has_buffers(need)) return Served::Stop;
  // virtio_net_has_buffers() found them: QEMU suppresses kicks
  // (virtio_queue_set_notification(vq, 0)) for every frame it takes.
  if (!opt_.vhost) shared_.ring.set_notification(false);
  if (!opt_.mergeable && front_bytes < need) {
    // A chain too short for the frame: QEMU drops the frame and leaves the
    // chain posted (virtqueue_unpop).
    drop_too_large(cursor);
    ++fates;
    return Served::Dropped;
  }
  pop_front();
  if (!take_chains(pkt, need, cursor)) {
    ++fates;  // lost: the device broke mid-frame
    return Served::Stop;
  }
  return Served::Frame;
}

void HostDevice::pop_front() {
  tap_.pop_front();
  if (batch_ > 0) --batch_;
}

void HostDevice::drop_too_large(SimTime& cursor) {
  const Packet pkt = tap_.front();
  pop_front();
  drop(pkt, cursor, DropReason::TooLarge);
  cursor += ns_to_sim_time(costs_.host_per_packet_ns);  // read from the tap, found no room
}

bool HostDevice::take_chains(const Packet& pkt, uint64_t need, SimTime& cursor) {
  // Chains from the avail ring until the frame (and its header) is written:
  // one for a big or small posting, as many as it takes for mergeable buffers.
  VirtQueue& ring = shared_.ring;
  uint64_t left = need, chain_bytes = 0;
  uint32_t chains = 0, descs = 0, ring_descs = 0;  // buffers mapped; ring descriptors taken
  uint64_t table_bytes = 0;
  uint16_t first = 0;
  while (left > 0) {
    // The first chain passed screen_front in serve_front, and nothing has
    // touched the ring since: walking its descriptors again would find the
    // same (max-buffer's are 20 long).
    if (chains > 0 && screen_front(cursor, true) == Screen::Broken) {
      // Broken mid-frame: the chains taken so far stay with the device
      // (QEMU detaches them unreturned) and the frame is lost.
      drop(pkt, cursor, DropReason::DeviceBroken);
      return false;
    }
    uint32_t head_ring_descs = 0;
    ChainTotals mapped;  // the device maps the chain's buffers; it writes no data
    const uint16_t head = ring.pop_avail(nullptr, &head_ring_descs, &mapped);
    const uint64_t cb = mapped.bytes;
    const uint64_t w = std::min(left, cb);
    ring.push_used(head, static_cast<uint32_t>(w));
    if (chains == 0) first = head;
    ++chains;
    descs += mapped.buffers;
    ring_descs += head_ring_descs;
    table_bytes += ring.table_bytes(head);
    chain_bytes += cb;
    left -= w;
    ensure(opt_.mergeable || left == 0, "a non-mergeable frame spilled past its chain");
  }
  shared_.packet_at[first] = pkt;
  shared_.num_buffers_at[first] = chains;
  events_.emit(BuffersTaken{
      .time = seconds(cursor), .packet = pkt.id, .head = first, .chains = chains, .bytes = chain_bytes, .descriptors = ring_descs});
  double service_ns = costs_.host_packet_ns(descs, need) + (pkt.segment ? costs_.host_per_segment_ns : 0.0);
  if (costs_.host_service_exponential) service_ns = service_rng_.exponential(service_ns);
  cursor += ns_to_sim_time(service_ns);
  // Faulty chains met while assembling the frame go back after it, unused.
  for (const uint16_t h : discarded_) ring.push_used(h, 0);
  const uint32_t heads = chains + static_cast<uint32_t>(discarded_.size());
  discarded_.clear();
  if (opt_.vhost) {
    // vhost-net publishes and signals what it has used in batches: once more
    // than VHOST_NET_BATCH heads are done (handle_rx: nvq->done_idx >
    // VHOST_NET_BATCH -> vhost_net_signal_used), and when handle_rx returns.
    batch_used_.time = cursor;
    batch_used_.chains += heads;
    ++batch_used_.packets;
    batch_used_.bytes += pkt.len;
    if (batch_used_.chains > kVhostNetBatch) flush_batch(cursor);
  } else {
    // QEMU publishes and signals each frame (virtio_net_receive_rcu:
    // virtqueue_flush, virtio_notify).
    shared_.used.push({.time = cursor, .chains = heads, .packets = 1, .bytes = pkt.len});
  }
  events_.emit(BuffersUsed{.time = seconds(cursor),
                           .packet = pkt.id,
                           .head = first,
                           .chains = chains,
                           .bytes = chain_bytes,
                           .written = static_cast<uint32_t>(need),
                           .table_bytes = table_bytes});
  return true;
}

Task<bool> HostDevice::wait_for_traffic(SimTime& cursor) {
  // With nothing in the tap the backend thread sleeps: the frame that wakes
  // it finds it running latency.backend_wakeup_ns later.
  if (tap_.empty()) asleep_ = true;
  SimTime until;
  bool frame = false;
  if (next_ && next_->arrival <= known_until()) {
    until = next_->arrival;
    if (asleep_ && until > now()) until += ns_to_sim_time(opt_.latency.backend_wakeup_ns);
    frame = true;
  } else if (source_pending_) {
    // Nothing can arrive before the source's horizon; look again then.
    until = std::max(known_until(), now());
  } else if (tap_.empty()) {
    co_return false;  // nothing more will arrive (a kick now would find nothing to do)
  } else {
    until = now();
  }
  // A kick on its way ends the wait when it arrives (absorb_kick).
  if (shared_.bell.kick_pending()) until = std::min(until, std::max(kick_arrival(), now()));
  if (co_await idle_until(until)) {
    cursor = now();  // a kick came first
    co_return true;
  }
  cursor = std::max(cursor, until);
  if (frame) asleep_ = false;
  co_return true;
}

Task<bool> HostDevice::idle_until(SimTime at) {
  // Kicks can reach an idle device only where the ring lets the guest send
  // one (before the device first ran, or a stale avail_event coming round
  // after 2^16 entries): then the wait ends at a kick. Otherwise, and when
  // the driver cannot run before `at`, a sleep.
  if (at <= clock_.now()) co_return false;
  if (shared_.bell.kick_pending() || !shared_.ring.kick_possible() || clock_.can_skip_to(at)) {
    co_await clock_.sleep_to(at);
    co_return false;
  }
  co_await clock_.sync();
  clock_.waiting_until(at);
  const bool kicked = co_await shared_.bell.wait_for_kick(at - clock_.now());
  clock_.resync();
  co_return kicked && clock_.now() < at;
}

Task<void> HostDevice::stall_for_buffers(SimTime& cursor, bool share) {
  // A kick taken late (sent before the device last looked at the ring) says
  // nothing new: handle it and look again. Only a kick sent after the device
  // enables notifications ends a stall.
  if (shared_.bell.kick_pending()) {
    // (Not before it arrives: until then the device does not know of it.)
    if (kick_arrival() > now()) co_await clock_.sleep_to(kick_arrival());
    co_await handle_kick(cursor, share);
    co_return;
  }
  // No usable buffer: enable kicks, check again, wait for one
  // (handle_rx: vhost_enable_notify, and again if the guest slipped one in;
  // QEMU: virtio_net_has_buffers).
  VirtQueue& ring = shared_.ring;
  ring.set_notification(true);
  if (has_buffers(uint64_t{opt_.header_bytes} + tap_.front().len)) {
    ring.set_notification(false);
    co_return;
  }
  events_.emit(StallBegan{.time = seconds(now())});
  waiting_for_kick_ = true;
  co_await clock_.waiting_for_other(shared_.bell.kick_pending());
  co_await shared_.bell.wait_for_kick();
  clock_.resync();
  // The kick reaches the device latency.kick_ns after the guest sent it, and
  // the backend thread, asleep meanwhile, runs latency.backend_wakeup_ns
  // later still. Its notifications stay enabled until it looks at the ring:
  // kicks sent meanwhile are the same one (the eventfd is already set).
  if (kick_arrival() > now()) co_await clock_.sleep_to(kick_arrival());
  shared_.bell.take_kick();
  waiting_for_kick_ = false;
  events_.emit(StallEnded{.time = seconds(now())});
  ring.set_notification(false);
  co_await pay_kick(cursor, share);
}

void HostDevice::progressed(SimTime t) {
  stuck_at_ = t;
  idle_rounds_ = 0;
}

void HostDevice::no_progress(SimTime t) {
  // With no costs, a device refusing every chain (each longer than
  // host.max_chain_descriptors, on_bad_chain "drop") and a driver posting new
  // ones at once go round in zero simulated time: stop, rather than spin.
  if (t != stuck_at_) return progressed(t);
  if (++idle_rounds_ < kMaxIdleRounds) return;
  throw InvariantError(fmt::format(
      "no progress (queue {}): simulated time stuck at {:.9f} s for {} device steps that served and dropped "
      "nothing ({} chains refused so far); with zero costs, a device that refuses every chain never lets time pass",
      shared_.queue, seconds(t), idle_rounds_, std::accumulate(bad_chains_.begin(), bad_chains_.end(), uint64_t{0})));
}

Step HostDevice::wake_driver_to_look() {
  if (!shared_.bell.driver_waiting()) return {};
  return sync_and_wake_driver();
}

Task<void> HostDevice::sync_and_wake_driver() {
  co_await clock_.sync();  // the driver wakes at the device's time
  co_await shared_.bell.wake_driver();
}

Step HostDevice::add_fates(uint64_t n) {
  if (n && shared_.run.exhausted_queues == shared_.run.queues) return add_last_fates(n);
  shared_.add_fates(n);
  return {};
}

Task<void> HostDevice::add_last_fates(uint64_t n) {
  co_await clock_.sync_if_ending();  // these may be the last fates: the run ends now
  shared_.add_fates(n);
}

}  // namespace vringsim

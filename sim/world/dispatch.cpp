#include "sim/world/dispatch.hpp"

#include <cmath>
#include <limits>

#include "sim/core/errors.hpp"

namespace vringsim {

Dispatcher::Dispatcher(std::vector<Input> inputs, const Topology& topology, uint64_t stop_packets, double horizon_s)
    : inputs_(std::move(inputs)),
      topology_(topology),
      stop_packets_(stop_packets),
      horizon_(to_sim_time(horizon_s)),
      head_(inputs_.size()),
      done_(inputs_.size(), false),
      waiting_(topology.total_queues()) {
  const bool one_to_one = inputs_.size() == 1 && topology.total_queues() == 1;
  for (const Input& in : inputs_)
    if (ClosedLoop* loop = in.arrivals->source().closed_loop()) {
      // load_scenario refuses it; a closed-loop sender paces itself on its own frames' fates.
      ensure(one_to_one, "a closed-loop source drives one queue from one source");
      closed_loop_ = loop;
    }
}

Dispatcher::Pulled Dispatcher::pull() {
  if (stop_packets_ && emitted_ >= stop_packets_) return {Status::Exhausted, {}, 0};
  if (closed_loop_) {
    // The sender decides on feedback: ask it every time, never read ahead.
    const auto a = inputs_[0].arrivals->next();
    if (!a) return {closed_loop_->pending() ? Status::Pending : Status::Exhausted, {}, 0};
    return {Status::Frame, make_packet(*a), 0};
  }
  // The earliest head among the sources (ties: the first source).
  size_t best = inputs_.size();
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (!head_[i] && !done_[i]) {
      head_[i] = inputs_[i].arrivals->next();
      if (!head_[i]) done_[i] = true;
    }
    // On the run's clock: arrivals in one nanosecond go in source order.
    if (head_[i] && (best == inputs_.size() || to_sim_time(head_[i]->time_s) < to_sim_time(head_[best]->time_s)))
      best = i;
  }
  if (best == inputs_.size()) return {Status::Exhausted, {}, 0};
  const Arrival a = *head_[best];
  head_[best].reset();
  const uint32_t queue = topology_.total_queues() == 1 ? 0 : topology_.route(static_cast<uint32_t>(best), a.flow);
  return {Status::Frame, make_packet(a), queue};
}

Dispatcher::Answer Dispatcher::next(uint32_t queue, SimTime until) {
  auto& mine = waiting_[queue];
  if (!mine.empty()) {
    const Packet p = mine.front();
    mine.pop_front();
    return {Status::Frame, p, 0};
  }
  while (!exhausted_) {
    const Pulled got = pull();
    if (got.status == Status::Pending) return {Status::Pending, {}, to_sim_time(closed_loop_->quiet_until())};
    if (got.status == Status::Exhausted) {
      exhausted_ = true;
      break;
    }
    if (got.queue == queue) return {Status::Frame, got.packet, 0};
    waiting_[got.queue].push_back(got.packet);
    // Every frame up to this one is known, and none is for `queue`.
    if (got.packet.arrival > until + horizon_) return {Status::Pending, {}, got.packet.arrival};
  }
  return {Status::Exhausted, {}, 0};
}

Dispatcher::Answer Dispatcher::skip(uint32_t queue, SimTime until, SimTime limit, SimTime below,
                                    SkippedFrames& skipped) {
  const bool direct = inputs_.size() == 1 && topology_.total_queues() == 1 && !closed_loop_ && !exhausted_ &&
                      waiting_[queue].empty() && !head_[0] && !done_[0];
  if (!direct) {
    for (;;) {
      const Answer a = next(queue, until);
      if (a.status != Status::Frame || a.packet.arrival > limit || a.packet.arrival >= below) return a;
      skipped.add(a.packet.len, seconds(a.packet.arrival));
    }
  }
  // pull()'s work, without the packets: the same frames numbered, up to stop.packets.
  if (stop_packets_ && emitted_ >= stop_packets_) return next(queue, until);
  const uint64_t most = stop_packets_ ? stop_packets_ - emitted_ : std::numeric_limits<uint64_t>::max();
  const uint64_t before = skipped.packets;
  // The source compares its own doubles: x <= seconds(n) exactly when
  // to_sim_time(x) <= n, and x < the double after seconds(n - 1) exactly
  // when to_sim_time(x) < n (sim_time.hpp).
  const double below_s = below == kNever ? std::numeric_limits<double>::infinity()
                                         : std::nextafter(seconds(below - 1), std::numeric_limits<double>::infinity());
  const auto a = inputs_[0].arrivals->skip(limit == kNever ? std::numeric_limits<double>::infinity() : seconds(limit),
                                           below_s, most, skipped);
  emitted_ += skipped.packets - before;
  if (!a) {
    if (!(stop_packets_ && emitted_ >= stop_packets_)) done_[0] = true;
    return next(queue, until);  // exhausted, as pull() finds it
  }
  return {Status::Frame, make_packet(*a), 0};
}

}  // namespace vringsim

// From the sources to the receive queues: merges every source's arrivals in
// time order, numbers the frames, and routes each to its queue by flow (the
// topology's bridges, then RSS). A host device asks for the next frame of its
// own queue; frames for other queues wait in their queue's buffer.
//
// A queue that gets few frames must not pull the whole source into the other
// queues' buffers: the dispatcher looks at most `horizon_s` past the time the
// device needs and otherwise answers "nothing for you before T" (Pending),
// which the device treats as it treats a closed-loop sender's quiet time.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/topology.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {

class Dispatcher {
 public:
  struct Input {
    Aggregator* arrivals;  ///< one source (with its wire and GRO)
  };
  Dispatcher(std::vector<Input> inputs, const Topology& topology, uint64_t stop_packets, double horizon_s);

  enum class Status { Frame, Pending, Exhausted };
  struct Answer {
    Status status;
    Packet packet;             ///< Frame
    SimTime quiet_until = 0;  ///< Pending: no frame for the queue arrives before this
  };
  /// The next frame for `queue`; `until`: the time up to which the caller
  /// needs to know. Times are the run's nanoseconds: a source's arrival (a
  /// double) enters the clock here, by sim_time.hpp's rule.
  Answer next(uint32_t queue, SimTime until);

  /// Frames for `queue` that a full tap drops unseen: every one next() would
  /// give that arrives by `limit` and before `below` is counted in
  /// `skipped` (numbered, the sources' draws made as for next()) and not
  /// built; returns what next(queue, until) gives after them (`limit` <=
  /// `until`). With one source and one queue the frames are not even made
  /// into packets (Aggregator::skip).
  Answer skip(uint32_t queue, SimTime until, SimTime limit, SimTime below, SkippedFrames& skipped);

  /// A closed-loop source (one source, one queue), or null.
  ClosedLoop* closed_loop() const { return closed_loop_; }

 private:
  struct Pulled {
    Status status;
    Packet packet;
    uint32_t queue = 0;
  };
  Pulled pull();
  /// The packet numbered next, for a source's arrival.
  Packet make_packet(const Arrival& a) {
    return Packet{.id = emitted_++, .len = a.len_bytes, .segment = a.segment, .arrival = to_sim_time(a.time_s)};
  }

  std::vector<Input> inputs_;
  const Topology& topology_;
  uint64_t stop_packets_;
  SimTime horizon_;
  std::vector<std::optional<Arrival>> head_;  ///< per input: its next arrival, not yet taken
  std::vector<bool> done_;
  std::vector<std::deque<Packet>> waiting_;  ///< per queue
  uint64_t emitted_ = 0;
  bool exhausted_ = false;
  ClosedLoop* closed_loop_ = nullptr;
};

}  // namespace vringsim

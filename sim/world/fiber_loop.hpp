// The devices and drivers of every receive queue as fibers of a single
// SimGrid actor (docs/model.md §7).
//
// At low load nearly every frame interrupts an idle guest: with an actor
// each, every interrupt, timed wait and wake-up was a SimGrid activity (a
// solver step and two context switches), 2-4 per delivered packet and 60 %
// of the run time; with many queues, every core a backend queues for was one
// more. Here the calls by which the fibers hand control over (the sleeps;
// the kick, interrupt and core semaphores: blocking.hpp, cores.hpp) are
// carried out by a copy of the part of SimGrid's loop they use, on the
// loop's own clock, and switching between them is a fiber switch:
//   - a sub-round runs each fiber due, in order, up to its next call; then
//     the calls are answered in that order (kernel/EngineImpl.cpp run());
//   - a sleep lasts at least surf/precision (surf/cpu_cas01.cpp sleep());
//   - a semaphore: acquire takes a token or queues (first come, first
//     served), with a timeout as a sleep; release wakes the first waiter
//     before the releaser goes on (kernel/activity/SemaphoreImpl.cpp);
//   - a step moves the clock c to the next timer date D as SimGrid does,
//     c + (D - c), and ends every timer due within surf/precision of it, in
//     the order of SimGrid's stable heap (by date; at one date the oldest
//     step's first, and within a step the newest first: sleep() pushes to the
//     front of the list the next step inserts from).
// Only the sampler, the controller and the end of the run make the loop's
// actor call SimGrid itself: before its clock passes the sampler's next
// instant it sleeps there in SimGrid (stopping at each instant, so SimGrid's
// own sums stay exact), lets the sampler read first, and near the end each
// call is also a SimGrid call, so the run ends the actor where it ended the
// actors before.
//
// Every output is what an actor per fiber gave, byte for byte: the golden
// files, a property test of 300 random scenarios against SimGrid's own
// actors (lookahead off) and the lookahead test's traces check it.
#pragma once

#include <boost/context/fiber.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <queue>
#include <vector>

#include "sim/world/blocking.hpp"

namespace vringsim {

struct RunState;

class FiberLoop {
 public:
  using Id = uint32_t;

  /// `precision`: SimGrid's surf/precision.
  FiberLoop(RunState& run, double precision) : run_(run), precision_(precision) {}

  /// A fiber running `body` (its actor's body). The first sub-round runs
  /// them in the order added (the order the actors were created in).
  Id add_fiber(std::function<void()> body);
  /// A semaphore holding `tokens`.
  Id add_semaphore(uint32_t tokens) {
    sems_.push_back({tokens, {}, 0});
    return static_cast<Id>(sems_.size() - 1);
  }
  /// The loop's clock: SimGrid's, as the actors would have seen it.
  double clock() const { return clock_; }

  // The calls, from the fiber running.
  /// simgrid::s4u::this_actor::sleep_until(t).
  void sleep_until(double t) {
    if (t <= clock_) return;  // SimGrid makes no call
    Fiber& f = fibers_[current_];
    f.call = Call::Sleep;
    f.arg = t - clock_;
    suspend();
  }
  /// Semaphore::acquire_timeout(timeout) (a timeout not above 0:
  /// Semaphore::acquire). True if the timeout passed first.
  bool acquire(Id sem, double timeout) {
    Fiber& f = fibers_[current_];
    f.call = Call::Acquire;
    f.sem = sem;
    f.arg = timeout;
    suspend();
    return f.timed_out;
  }
  /// Semaphore::release.
  void release(Id sem) {
    Fiber& f = fibers_[current_];
    f.call = Call::Release;
    f.sem = sem;
    suspend();
  }
  /// Semaphore::would_block: no token to take.
  bool would_block(Id sem) const { return sems_[sem].tokens == 0; }

  /// The actor's body.
  void run();

 private:
  enum class Call { None, Sleep, Acquire, Release };
  struct Fiber {
    std::function<void()> body;
    boost::context::fiber self;    ///< the fiber, while suspended
    boost::context::fiber caller;  ///< the loop, while the fiber runs
    Call call = Call::None;        ///< the call it made (None: its body returned)
    double arg = 0;                ///< the sleep's duration, the acquisition's timeout
    Id sem = 0;                    ///< the semaphore it acquires or releases
    uint64_t timer = 0;            ///< its sleep's or timeout's timer (0: none)
    bool waiting = false;          ///< queued on `sem`
    bool timed_out = false;
    std::exception_ptr failure;  ///< what escaped its body, rethrown in the actor
  };
  struct Sem {
    uint32_t tokens;
    /// Its waiters, first come, first served: those from `first` on (a
    /// vector, not a deque: a timed wait leaving it is common, and short).
    std::vector<Id> waiters;
    size_t first = 0;
    bool idle() const { return first == waiters.size(); }
    Id pop() {
      const Id w = waiters[first++];
      if (idle()) waiters.clear(), first = 0;
      return w;
    }
    void leave(Id w) {
      waiters.erase(std::find(waiters.begin() + static_cast<std::ptrdiff_t>(first), waiters.end(), w));
      if (idle()) waiters.clear(), first = 0;
    }
  };
  /// A sleep's end in SimGrid's heap: by date; at one date the oldest step's
  /// first, the newest within a step first.
  struct Timer {
    double date;
    uint64_t step, seq;
    Id fiber;
    bool operator>(const Timer& o) const {
      if (date != o.date) return date > o.date;
      if (step != o.step) return step > o.step;
      return seq < o.seq;
    }
  };
  /// From the running fiber: back to the loop until the call is answered.
  void suspend();
  /// From the loop: fiber `w` runs up to its next call.
  void resume(Id w);
  void start(Id w);
  /// Answers fiber `w`'s call, as SimGrid's maestro does after a sub-round.
  void handle(Id w);
  /// Fiber `w` runs in the next sub-round.
  void answer(Id w) { next_.push_back(w); }
  void set_timer(Id w, double date) {
    fibers_[w].timer = ++timers_;
    heap_.push({date, steps_, timers_, w});
  }
  /// The earliest timer still set (stale entries dropped), if any.
  const Timer* next_timer();
  /// The run may be over (its end's instant reached, or a finite source
  /// drained): each call is then also a SimGrid call, where SimGrid ends a
  /// daemon actor once the run has ended.
  bool near_the_end() const;

  RunState& run_;
  double precision_;
  double clock_ = 0;
  std::vector<Fiber> fibers_;
  std::vector<Sem> sems_;
  Id current_ = 0;          ///< the fiber running
  std::vector<Id> next_;    ///< the fibers to run in the next sub-round, in order
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> heap_;
  uint64_t steps_ = 0;      ///< clock steps so far
  uint64_t timers_ = 0;     ///< timers set so far
};

/// SimGrid's clock, or the fiber loop's for its fibers.
inline double clock_of(const FiberLoop* loop) {
  return loop ? loop->clock() : simgrid::s4u::Engine::get_clock();
}
/// Sleeps until `t` in SimGrid, or in the fiber loop for its fibers.
inline void sleep_until(FiberLoop* loop, double t) {
  if (loop)
    loop->sleep_until(t);
  else
    blocking::sleep_until(t);
}

/// A semaphore in SimGrid, or in a fiber loop once its users run there.
class Semaphore {
 public:
  /// The SimGrid semaphore is made on first use: fibers never use it (a
  /// 128 x 4 run made a thousand for nothing).
  explicit Semaphore(uint32_t tokens) : tokens_(tokens) {}
  void run_on(FiberLoop& loop) {
    loop_ = &loop;
    id_ = loop.add_semaphore(tokens_);
  }
  /// No token to take: acquiring waits.
  bool would_block() const { return loop_ ? loop_->would_block(id_) : sg_semaphore()->would_block(); }
  /// Takes a token, waiting if needed, at most `timeout_s` if given (and
  /// above 0). True if the timeout passed first.
  bool acquire(std::optional<double> timeout_s = std::nullopt) {
    if (loop_) return loop_->acquire(id_, timeout_s ? *timeout_s : -1);
    if (timeout_s) return blocking::acquire_timeout(sg_semaphore(), *timeout_s);
    blocking::acquire(sg_semaphore());
    return false;
  }
  void release() {
    if (loop_)
      loop_->release(id_);
    else
      sg_semaphore()->release();
  }

 private:
  const simgrid::s4u::SemaphorePtr& sg_semaphore() const {
    if (!sem_) sem_ = simgrid::s4u::Semaphore::create(tokens_);
    return sem_;
  }
  uint32_t tokens_;
  mutable simgrid::s4u::SemaphorePtr sem_;
  FiberLoop* loop_ = nullptr;
  FiberLoop::Id id_ = 0;
};

}  // namespace vringsim

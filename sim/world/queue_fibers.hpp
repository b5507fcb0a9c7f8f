// One receive queue's device and driver as two fibers of a single SimGrid
// actor, for runs with one receive queue (docs/model.md §7).
//
// At low load nearly every frame interrupts an idle guest: with an actor
// each, every interrupt, timed wait and wake-up was a SimGrid activity (a
// solver step and two context switches), 2-4 per delivered packet and 60 %
// of the run time. Here the calls by which the device and the driver hand
// control over (the sleeps, the kick and interrupt semaphores: blocking.hpp)
// are carried out by a copy of the part of SimGrid's loop they use, on this
// queue's own clock, and switching between them is a fiber switch:
//   - a sub-round runs each side due, in order, up to its next call; then
//     the calls are answered in that order (kernel/EngineImpl.cpp run());
//   - a sleep lasts at least surf/precision (surf/cpu_cas01.cpp sleep());
//   - a semaphore: acquire takes a token or waits, with a timeout as a
//     sleep; release wakes the waiter before the releaser goes on
//     (kernel/activity/SemaphoreImpl.cpp);
//   - a step moves the clock c to the next timer date D as SimGrid does,
//     c + (D - c), and ends every timer due within surf/precision of it, in
//     the order of SimGrid's stable heap (the oldest step's first, and within
//     a step the newest first: sleep() pushes to the front of the list the
//     next step inserts from).
// Only the sampler, the controller and the end of the run make the queue's
// actor call SimGrid itself: before its clock passes the sampler's next
// instant it sleeps there in SimGrid (stopping at each instant, so SimGrid's
// own sums stay exact), lets the sampler read first, and near the end each
// call is also a SimGrid call, so the run ends the actor where it ended the
// two before.
//
// Every output is what the two actors gave, byte for byte: the golden files,
// a property test of 300 random scenarios against SimGrid's own sleeps
// (lookahead off) and the lookahead test's traces check it.
#pragma once

#include <boost/context/fiber.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <vector>

namespace vringsim {

struct RunState;

class QueueFibers {
 public:
  enum Who { kDevice = 0, kDriver = 1 };

  /// `precision`: SimGrid's surf/precision.
  QueueFibers(RunState& run, double precision) : run_(run), precision_(precision) {}

  /// What side `w` runs (its actor's body).
  void set_body(Who w, std::function<void()> body) { side_[w].body = std::move(body); }
  /// The queue's clock: SimGrid's, as the two actors would have seen it.
  double clock() const { return clock_; }

  /// simgrid::s4u::this_actor::sleep_until(t), from side `w`.
  void sleep_until(Who w, double t) {
    if (t <= clock_) return;  // SimGrid makes no call
    Side& s = side_[w];
    s.call = Call::Sleep;
    s.arg = t - clock_;
    suspend(w);
  }
  /// Semaphore::acquire_timeout(timeout) on the token side `w` waits for (a
  /// timeout not above 0: Semaphore::acquire). True if the timeout passed first.
  bool acquire(Who w, double timeout) {
    Side& s = side_[w];
    s.call = Call::Acquire;
    s.arg = timeout;
    suspend(w);
    return s.timed_out;
  }
  /// Semaphore::release on side `to`'s token, from side `from`.
  void release(Who from, Who to) {
    Side& s = side_[from];
    s.call = Call::Release;
    s.release_to = to;
    suspend(from);
  }
  /// Side `w`'s token would not block (a release not yet taken).
  bool token_pending(Who w) const { return token_[w] > 0; }

  /// The actor's body.
  void run();

 private:
  enum class Call { None, Sleep, Acquire, Release };
  struct Side {
    std::function<void()> body;
    boost::context::fiber self;    ///< the fiber, while suspended
    boost::context::fiber caller;  ///< the loop, while the fiber runs
    Call call = Call::None;        ///< the call it made (None: its body returned)
    double arg = 0;                ///< the sleep's duration, the acquisition's timeout
    Who release_to = kDevice;
    double timer = std::numeric_limits<double>::infinity();  ///< its sleep or timeout ends then
    uint64_t timer_step = 0, timer_seq = 0;                   ///< its place in SimGrid's heap
    bool waiting_token = false;  ///< an acquisition not granted yet
    bool timed_out = false;
    std::exception_ptr failure;  ///< what escaped its body, rethrown in the actor
  };
  /// From side `w`'s fiber: back to the loop until the call is answered.
  void suspend(Who w);
  /// From the loop: side `w` runs up to its next call.
  void resume(Who w);
  void start(Who w);
  /// Answers side `w`'s call, as SimGrid's maestro does after a sub-round.
  void handle(Who w);
  /// Side `w` runs in the next sub-round.
  void answer(Who w) { next_.push_back(w); }
  void set_timer(Side& s, double date) {
    s.timer = date;
    s.timer_step = steps_;
    s.timer_seq = ++timers_;
  }
  /// The run may be over (its end's instant reached, or a finite source
  /// drained): each call is then also a SimGrid call, where SimGrid ends a
  /// daemon actor once the run has ended.
  bool near_the_end() const;

  RunState& run_;
  double precision_;
  double clock_ = 0;
  Side side_[2];
  uint32_t token_[2] = {0, 0};  ///< each side's semaphore (the device's kicks, the driver's interrupts)
  std::vector<Who> next_;       ///< the sides to run in the next sub-round, in order
  uint64_t steps_ = 0;          ///< clock steps so far
  uint64_t timers_ = 0;         ///< timers set so far
};

}  // namespace vringsim

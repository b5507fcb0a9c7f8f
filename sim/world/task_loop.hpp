// The devices and drivers of every receive queue as coroutines (task.hpp)
// of a single SimGrid actor (docs/model.md §7).
//
// At low load nearly every frame interrupts an idle guest: with an actor
// each, every interrupt, timed wait and wake-up was a SimGrid activity (a
// solver step and two context switches), 2-4 per delivered packet and 60 %
// of the run time; with many queues, every core a backend queues for was one
// more. Here the calls by which the tasks hand control over (the sleeps;
// the kick, interrupt and core semaphores: blocking.hpp, cores.hpp) are
// carried out by a copy of the part of SimGrid's loop they use, on the
// loop's own clock, and switching between them is a coroutine resumed:
//   - a sub-round runs each task due, in order, up to its next call; then
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
// Every output is what an actor per side gave, byte for byte: the golden
// files, a property test of 300 random scenarios against SimGrid's own
// actors (lookahead off), the lookahead test's traces and task_loop_test's
// random programs check it.
#pragma once

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "sim/world/blocking.hpp"
#include "sim/world/task.hpp"

namespace vringsim {

struct RunState;
class TaskLoop;

/// A call that may wait: in the queue loop (suspending the task until the
/// loop answers it), or, with no loop, made in SimGrid at once.
class [[nodiscard]] Wait {
 public:
  enum class Kind : uint8_t { Sleep, Acquire, Release };
  /// simgrid::s4u::this_actor::sleep_until(t).
  static Wait sleep_until(TaskLoop* loop, double t) { return Wait(loop, Kind::Sleep, t, 0, nullptr); }
  /// Semaphore::acquire_timeout(timeout) (a timeout not above 0: acquire).
  /// With no loop, a timeout not given is Semaphore::acquire().
  static Wait acquire(TaskLoop* loop, uint32_t sem, std::optional<double> timeout,
                      const simgrid::s4u::SemaphorePtr* sg) {
    Wait w(loop, Kind::Acquire, timeout ? *timeout : -1, sem, sg);
    w.has_timeout_ = timeout.has_value();
    return w;
  }
  static Wait release(TaskLoop* loop, uint32_t sem, const simgrid::s4u::SemaphorePtr* sg) {
    return Wait(loop, Kind::Release, 0, sem, sg);
  }

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  /// An acquisition: true if its timeout passed first.
  bool await_resume() const;

 private:
  Wait(TaskLoop* loop, Kind k, double arg, uint32_t sem, const simgrid::s4u::SemaphorePtr* sg)
      : loop_(loop), kind_(k), arg_(arg), sem_(sem), sg_(sg) {}
  friend class TaskLoop;
  TaskLoop* loop_;
  Kind kind_;
  double arg_;  ///< the sleep's end; the acquisition's timeout
  uint32_t sem_;
  const simgrid::s4u::SemaphorePtr* sg_;
  bool has_timeout_ = false;
  bool timed_out_ = false;  ///< (made in SimGrid)
};

class TaskLoop {
 public:
  using Id = uint32_t;

  /// `precision`: SimGrid's surf/precision.
  TaskLoop(RunState& run, double precision) : run_(run), precision_(precision) {}

  /// A task (its actor's body). The first sub-round runs them in the order
  /// added (the order the actors were created in).
  Id add_task(Task<void> body) {
    tasks_.emplace_back().body = std::move(body);
    return static_cast<Id>(tasks_.size() - 1);
  }
  /// A semaphore holding `tokens`.
  Id add_semaphore(uint32_t tokens) {
    sems_.push_back({tokens, {}, 0});
    return static_cast<Id>(sems_.size() - 1);
  }
  /// The loop's clock: SimGrid's, as the actors would have seen it.
  double clock() const { return clock_; }
  /// Semaphore::would_block: no token to take.
  bool would_block(Id sem) const { return sems_[sem].tokens == 0; }

  /// The actor's body.
  void run();

 private:
  friend class Wait;
  using Call = Wait::Kind;
  struct Entry {
    Task<void> body;
    std::coroutine_handle<> resume_at;  ///< where it goes on (null: not started, or done)
    bool calling = false;               ///< suspended on a call (false: its body returned)
    Call call = Call::Sleep;            ///< the call it made
    double arg = 0;                     ///< the sleep's duration, the acquisition's timeout
    Id sem = 0;                         ///< the semaphore it acquires or releases
    uint64_t timer = 0;                 ///< its sleep's or timeout's timer (0: none)
    bool waiting = false;               ///< queued on `sem`
    bool timed_out = false;
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
    Id task;
    bool operator>(const Timer& o) const {
      if (date != o.date) return date > o.date;
      if (step != o.step) return step > o.step;
      return seq < o.seq;
    }
  };
  /// The running task makes call `w` (not answered at once): it is suspended at `h`.
  void park(std::coroutine_handle<> h, const Wait& w);
  /// Task `w` runs up to its next call.
  void resume(Id w);
  /// Answers task `w`'s call, as SimGrid's maestro does after a sub-round.
  void handle(Id w);
  /// Task `w` runs in the next sub-round.
  void answer(Id w) { next_.push_back(w); }
  void set_timer(Id w, double date) {
    tasks_[w].timer = ++timers_;
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
  std::vector<Entry> tasks_;
  std::vector<Sem> sems_;
  Id current_ = 0;          ///< the task running
  std::vector<Id> next_;    ///< the tasks to run in the next sub-round, in order
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> heap_;
  uint64_t steps_ = 0;      ///< clock steps so far
  uint64_t timers_ = 0;     ///< timers set so far
};

/// SimGrid's clock, or the task loop's for its tasks.
inline double clock_of(const TaskLoop* loop) {
  return loop ? loop->clock() : simgrid::s4u::Engine::get_clock();
}
/// Sleeps until `t` in SimGrid, or in the task loop for its tasks.
inline Wait sleep_until(TaskLoop* loop, double t) { return Wait::sleep_until(loop, t); }

/// A semaphore in SimGrid, or in a task loop once its users run there.
class Semaphore {
 public:
  /// The SimGrid semaphore is made on first use: tasks never use it (a
  /// 128 x 4 run made a thousand for nothing).
  explicit Semaphore(uint32_t tokens) : tokens_(tokens) {}
  void run_on(TaskLoop& loop) {
    loop_ = &loop;
    id_ = loop.add_semaphore(tokens_);
  }
  /// No token to take: acquiring waits.
  bool would_block() const { return loop_ ? loop_->would_block(id_) : sg_semaphore()->would_block(); }
  /// Takes a token, waiting if needed, at most `timeout_s` if given (and
  /// above 0). Awaited: true if the timeout passed first.
  Wait acquire(std::optional<double> timeout_s = std::nullopt) {
    return Wait::acquire(loop_, id_, timeout_s, loop_ ? nullptr : &sg_semaphore());
  }
  Wait release() { return Wait::release(loop_, id_, loop_ ? nullptr : &sg_semaphore()); }

 private:
  const simgrid::s4u::SemaphorePtr& sg_semaphore() const {
    if (!sem_) sem_ = simgrid::s4u::Semaphore::create(tokens_);
    return sem_;
  }
  uint32_t tokens_;
  mutable simgrid::s4u::SemaphorePtr sem_;
  TaskLoop* loop_ = nullptr;
  TaskLoop::Id id_ = 0;
};

}  // namespace vringsim

// The devices and drivers of every receive queue as coroutines (task.hpp)
// of a single SimGrid actor (docs/model.md §7).
//
// At low load nearly every frame interrupts an idle guest: with an actor
// each, every interrupt, timed wait and wake-up was a SimGrid activity (a
// solver step and two context switches), 2-4 per delivered packet and 60 %
// of the run time; with many queues, every core a backend queues for was one
// more. Here the calls by which the tasks hand control over (the sleeps;
// the kick, interrupt and core semaphores: blocking.hpp, cores.hpp) are
// carried out by the loop, on its own clock, and switching between them is
// a coroutine resumed.
//
// The order of what happens at one instant is the model's rule (docs/model.md
// §7 "Simultaneous instants"), not an engine's heap order: every task due
// runs in the order of its event's key (time, phase, sequence):
//   - time: when it is due (a step's timers at its clock, a wake-up at its
//     sender's: every event of a step is at its instant);
//   - phase: Due (its wait's time ran out: work done, a latency passed), a
//     device's (HostDue) before a driver's (GuestDue), then Woken (a kick, a
//     device's call to the driver, a core handed over: the receiver of a
//     signal sent at that time), then GoesOn (the sender of that signal,
//     after its receiver);
//   - sequence: the order the events were made, which the rule leaves free:
//     a shuffle seed (TaskLoop::shuffle) draws it instead, and
//     tests/engine/ measures how far outputs move.
// A semaphore served by key (the host cores, cores.hpp) gives its free
// tokens at the end of an instant, once every task due then has run, to its
// least keys (equal: the task added first), so the order of the requests and
// releases of an instant decides nothing.
// A call that needs no wait (a free token taken, a token left for nobody
// waiting, a sleep to now or into the past) does not suspend the task.
// The clock is the run's one clock (sim_time.hpp): integer nanoseconds. The
// events of one instant are exactly those at one integer, and a step's clock
// is its timers' date, neither rounded nor merged with a neighbour's (on
// SimGrid's double seconds a sleep lasted at least 1 ns, the clock moved
// from c to D as c + (D - c), and timers within 1 ns of D ended in its step).
// The devices' and drivers' own dates (sim/world/) are still double seconds:
// each enters the clock by the one rule, rounded up to the next nanosecond
// (to_sim_time), so no task wakes before the date it asked for.
// Only the sampler, the controller and the end of the run make the loop's
// actor call SimGrid itself: before its clock reaches the sampler's next
// instant it sleeps there in SimGrid (the same nanosecond as a double; each
// instant on the way), lets the sampler read first, then runs the tasks due
// at that instant; and near the end each call is also a SimGrid call, so
// SimGrid ends the actor where the run ends.
//
// tests/engine/task_loop_test.cpp checks the rule on hand cases and random
// programs; the lookahead (actor_clock.hpp) changes no output (the property
// test and the lookahead test's traces).
#pragma once

#include <simgrid/s4u/Engine.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <vector>

#include "sim/engine/blocking.hpp"
#include "sim/engine/sim_time.hpp"
#include "sim/engine/task.hpp"

namespace vringsim {

struct RunState;
class TaskLoop;

/// A call that may wait: the task suspends until the loop answers it (one
/// that needs no wait goes on at once).
class [[nodiscard]] Wait {
 public:
  enum class Kind : uint8_t { Sleep, Acquire, Release };
  /// Sleeps until `t`.
  static Wait sleep_until(TaskLoop* loop, SimTime t) { return Wait(loop, Kind::Sleep, t, 0); }
  /// Takes a token of `sem`, waiting at most `timeout` if given and above 0;
  /// `key`: its place among the waiters of a semaphore served by key.
  static Wait acquire(TaskLoop* loop, uint32_t sem, std::optional<SimTime> timeout, int64_t key = 0) {
    Wait w(loop, Kind::Acquire, timeout ? *timeout : -1, sem);
    w.key_ = key;
    return w;
  }
  /// Gives a token of `sem`: to its first waiter, if any.
  static Wait release(TaskLoop* loop, uint32_t sem) { return Wait(loop, Kind::Release, 0, sem); }

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  /// An acquisition: true if its timeout passed first.
  bool await_resume() const;

 private:
  Wait(TaskLoop* loop, Kind k, SimTime arg, uint32_t sem) : loop_(loop), kind_(k), arg_(arg), sem_(sem) {}
  friend class TaskLoop;
  TaskLoop* loop_;
  Kind kind_;
  SimTime arg_;  ///< the sleep's end; the acquisition's timeout
  uint32_t sem_;
  int64_t key_ = 0;  ///< an acquisition's key (a semaphore served by key)
};

class TaskLoop {
 public:
  using Id = uint32_t;
  /// The phase of an event at one instant (docs/model.md §7): what is due by
  /// its own time first, the host's before the guest's, then the receivers
  /// of signals sent at that time, then their senders.
  enum class Phase : uint8_t { HostDue = 0, GuestDue = 1, Woken = 2, GoesOn = 3 };
  /// Which side a task is on: a device (a backend thread) or a driver.
  enum class Side : uint8_t { Host, Guest };

  explicit TaskLoop(RunState& run) : run_(run) {}

  /// A task (its actor's body) on `side`. At time 0 they start in the order
  /// added, each side's in its phase.
  Id add_task(Task<void> body, Side side = Side::Host) {
    Entry& e = tasks_.emplace_back();
    e.body = std::move(body);
    e.due = side == Side::Host ? Phase::HostDue : Phase::GuestDue;
    return static_cast<Id>(tasks_.size() - 1);
  }
  /// A semaphore holding `tokens`. Its waiters are served first come,
  /// first served; or, `by_key`, every request waits for the end of its
  /// instant, when the free tokens go to the least keys (equal keys: the
  /// task added first), whatever order the requests and releases of that
  /// instant came in.
  Id add_semaphore(uint32_t tokens, bool by_key = false) {
    sems_.push_back({tokens, by_key, false, {}, 0});
    return static_cast<Id>(sems_.size() - 1);
  }
  /// Events the rule leaves free (same time, same phase) run in an order
  /// drawn from `seed` instead of the order they were made in (0: made).
  void shuffle(uint64_t seed) { shuffle_ = seed; }
  /// The loop's clock: the step's.
  SimTime clock() const { return clock_; }
  /// Semaphore::would_block: no token to take.
  bool would_block(Id sem) const { return sems_[sem].tokens == 0; }
  /// Called before each task runs, with its event's key (tests).
  std::function<void(Id task, SimTime time, Phase phase)> on_run;

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
    SimTime arg = 0;                    ///< the sleep's duration, the acquisition's timeout
    int64_t key = 0;                    ///< the acquisition's key (a semaphore served by key)
    Id sem = 0;                         ///< the semaphore it acquires or releases
    uint64_t timer = 0;                 ///< its sleep's or timeout's timer (0: none)
    bool waiting = false;               ///< queued on `sem`
    bool timed_out = false;
    Phase due = Phase::HostDue;         ///< its phase when its wait's time runs out
  };
  struct Sem {
    uint32_t tokens;
    bool by_key;
    bool granting = false;  ///< by key: listed in `grants_`
    /// Its waiters in the order they came: those from `first` on (a
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
  /// The tasks due now (every event of a step is at its instant: the step's
  /// clock), by phase; within a phase first made, first run (`head` on),
  /// unless shuffled.
  struct Ready {
    std::vector<Id> ids;
    size_t head = 0;
  };
  /// A sleep's or timeout's end: by date, then the order it was set in.
  struct Timer {
    SimTime date;
    uint64_t seq;
    Id task;
    bool operator>(const Timer& o) const {
      if (date != o.date) return date > o.date;
      return seq > o.seq;
    }
  };
  /// The running task makes call `w`, which waits: it is suspended at `h`.
  void park(std::coroutine_handle<> h, const Wait& w);
  /// Takes a token of `sem` if one is free.
  bool try_take(Id sem);
  /// Semaphore `sem`, served by key, has a free token or a new waiter: it
  /// grants at the end of this instant.
  void grant_later(Id sem) {
    Sem& s = sems_[sem];
    if (!s.granting) s.granting = true, grants_.push_back(sem);
  }
  /// The end of an instant: the semaphores served by key give their free
  /// tokens to their least keys (equal keys: the task added first), who are
  /// due now, Woken (false: none was).
  bool grant();
  /// Gives a token of `sem` to its first waiter, if any (true), who is due now, Woken.
  bool hand_over(Id sem);
  /// Task `w` runs up to its next call.
  void resume(Id w);
  /// Carries out task `w`'s call.
  void handle(Id w);
  /// Task `w` is due now, in `phase`.
  void due(Id w, Phase phase) {
    const auto p = static_cast<unsigned>(phase);
    ready_[p].ids.push_back(w);
    pending_ |= 1u << p;
  }
  /// The next task due now, the smallest key first (false: none).
  bool next_due(Id& w, Phase& phase) {
    if (!pending_) return false;
    const auto p = static_cast<unsigned>(std::countr_zero(pending_));
    Ready& r = ready_[p];
    if (shuffle_) draw_next(r);
    w = r.ids[r.head++];
    if (r.head == r.ids.size()) {
      r.ids.clear();
      r.head = 0;
      pending_ &= ~(1u << p);
    }
    phase = static_cast<Phase>(p);
    return true;
  }
  /// Shuffled: swaps one of `r`'s tasks, drawn, to its head.
  void draw_next(Ready& r);
  uint64_t draw();
  void set_timer(Id w, SimTime date) {
    tasks_[w].timer = ++timers_;
    heap_.push({date, timers_, w});
  }
  /// The earliest timer still set (stale entries dropped), if any.
  const Timer* next_timer();
  /// The run may be over (its end's instant reached, or a finite source
  /// drained): each call is then also a SimGrid call, where SimGrid ends a
  /// daemon actor once the run has ended.
  bool near_the_end() const;

  RunState& run_;
  SimTime clock_ = 0;
  std::vector<Entry> tasks_;
  std::vector<Sem> sems_;
  Id current_ = 0;          ///< the task running
  std::array<Ready, 4> ready_;  ///< by phase
  unsigned pending_ = 0;        ///< the phases with tasks due (bits)
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> heap_;
  uint64_t timers_ = 0;     ///< timers set so far
  std::vector<Id> grants_;  ///< semaphores served by key that grant at this instant's end
  uint64_t shuffle_ = 0;    ///< the shuffle's seed and state (0: none)
};

/// The task loop's clock (SimGrid's, on the grid, before a side is attached to one).
inline SimTime clock_of(const TaskLoop* loop) {
  return loop ? loop->clock() : from_engine_seconds(simgrid::s4u::Engine::get_clock());
}
/// Sleeps until `t` in the task loop.
inline Wait sleep_until(TaskLoop* loop, SimTime t) { return Wait::sleep_until(loop, t); }

/// A semaphore of the task loop its users run on (run_on before any use).
class Semaphore {
 public:
  /// `by_key`: waiters served the least key first (TaskLoop::add_semaphore).
  explicit Semaphore(uint32_t tokens, bool by_key = false) : tokens_(tokens), by_key_(by_key) {}
  void run_on(TaskLoop& loop) {
    loop_ = &loop;
    id_ = loop.add_semaphore(tokens_, by_key_);
  }
  /// The loop's clock.
  SimTime clock() const { return loop_->clock(); }
  /// No token to take: acquiring waits.
  bool would_block() const { return loop_->would_block(id_); }
  /// Takes a token, waiting if needed, at most `timeout` if given (and
  /// above 0). Awaited: true if the timeout passed first.
  Wait acquire(std::optional<SimTime> timeout = std::nullopt) { return Wait::acquire(loop_, id_, timeout); }
  /// Takes a token, waiting if needed, served by `key` among the waiters.
  Wait acquire_by(int64_t key) { return Wait::acquire(loop_, id_, std::nullopt, key); }
  Wait release() { return Wait::release(loop_, id_); }

 private:
  uint32_t tokens_;
  bool by_key_;
  TaskLoop* loop_ = nullptr;
  TaskLoop::Id id_ = 0;
};

}  // namespace vringsim

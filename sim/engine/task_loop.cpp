#include "sim/engine/task_loop.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include <algorithm>
#include <memory>
#include <utility>

#include "sim/core/errors.hpp"
#include "sim/engine/run_state.hpp"

namespace sg4 = simgrid::s4u;

namespace vringsim {

bool TaskLoop::near_the_end() const {
  return run_.drained_released || clock_ >= run_.stop_time;
}

bool Wait::await_ready() {
  if (kind_ == Kind::Sleep && arg_ <= loop_->clock_) return true;  // no wait
  if (loop_->near_the_end()) sg4::this_actor::yield();
  // A call that needs no wait does not suspend the task: a free token taken,
  // a token left when nobody waits for it.
  switch (kind_) {
    case Kind::Sleep: return false;
    case Kind::Acquire:
      loop_->tasks_[loop_->current_].timed_out = false;
      if (loop_->sems_[sem_].by_key) return false;  // served at the instant's end
      return loop_->try_take(sem_);
    case Kind::Release: {
      TaskLoop::Sem& s = loop_->sems_[sem_];
      if (s.by_key) {  // the token goes at the instant's end, to the least key
        ++s.tokens;
        if (!s.idle()) loop_->grant_later(sem_);
        return true;
      }
      if (!s.idle()) return false;
      ++s.tokens;
      return true;
    }
  }
  return false;
}

void Wait::await_suspend(std::coroutine_handle<> h) { loop_->park(h, *this); }

bool Wait::await_resume() const {
  if (kind_ != Kind::Acquire) return false;
  return loop_->tasks_[loop_->current_].timed_out;
}

void TaskLoop::park(std::coroutine_handle<> h, const Wait& w) {
  Entry& e = tasks_[current_];
  e.resume_at = h;
  e.calling = true;
  e.call = w.kind_;
  e.sem = w.sem_;
  e.key = w.key_;
  e.arg = w.kind_ == Call::Sleep ? w.arg_ - clock_ : w.arg_;
}

bool TaskLoop::try_take(Id sem) {
  Sem& s = sems_[sem];
  if (s.tokens == 0) return false;
  --s.tokens;
  return true;
}

uint64_t TaskLoop::draw() {
  // splitmix64: the shuffle's order (never 0 as a state: 0 means none).
  uint64_t z = (shuffle_ += 0x9e3779b97f4a7c15ULL);
  if (shuffle_ == 0) shuffle_ = 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void TaskLoop::resume(Id w) {
  current_ = w;
  Entry& e = tasks_[w];
  const std::coroutine_handle<> h = e.resume_at ? e.resume_at : e.body.handle();
  e.resume_at = nullptr;
  e.calling = false;
  h.resume();
  e.body.rethrow_if_failed();  // an error, or SimGrid ending the actor
}

void TaskLoop::handle(Id w) {
  Entry& f = tasks_[w];
  if (!f.calling) return;  // its body returned
  ++blocking::loop_waits;
  switch (f.call) {
    case Call::Sleep: set_timer(w, clock_ + f.arg); break;  // (above 0: Wait::await_ready)
    case Call::Acquire: {  // no token was free, or one is served by key (Wait::await_ready): it queues
      Sem& s = sems_[f.sem];
      s.waiters.push_back(w);
      f.waiting = true;
      if (s.by_key) {
        ensure(f.arg <= 0, "a semaphore served by key has no timed acquisition");
        if (s.tokens > 0) grant_later(f.sem);
      }
      if (f.arg > 0) set_timer(w, clock_ + f.arg);
      break;
    }
    case Call::Release: {  // someone waits (Wait::await_ready): the first, woken, runs before the releaser goes on
      const Id r = sems_[f.sem].pop();
      tasks_[r].waiting = false;
      tasks_[r].timer = 0;  // its timeout, if any, is cancelled
      due(r, Phase::Woken);
      due(w, Phase::GoesOn);
      break;
    }
  }
}

bool TaskLoop::grant() {
  bool any = false;
  for (const Id id : grants_) {
    Sem& s = sems_[id];
    s.granting = false;
    for (; s.tokens > 0 && !s.idle(); --s.tokens) {
      const auto at = std::min_element(s.waiters.begin(), s.waiters.end(), [&](Id a, Id b) {
        return tasks_[a].key != tasks_[b].key ? tasks_[a].key < tasks_[b].key : a < b;
      });
      const Id r = *at;
      s.waiters.erase(at);
      tasks_[r].waiting = false;
      due(r, Phase::Woken);
      any = true;
    }
  }
  grants_.clear();
  return any;
}

void TaskLoop::draw_next(Ready& r) {
  const size_t k = r.head + static_cast<size_t>(draw() % (r.ids.size() - r.head));
  std::swap(r.ids[r.head], r.ids[k]);
}

const TaskLoop::Timer* TaskLoop::next_timer() {
  while (!heap_.empty() && tasks_[heap_.top().task].timer != heap_.top().seq) heap_.pop();
  return heap_.empty() ? nullptr : &heap_.top();
}

void TaskLoop::run() {
  const auto never = sg4::Semaphore::create(0);
  for (Id w = 0; w < tasks_.size(); ++w) due(w, tasks_[w].due);  // (in the order added, unless shuffled)
  for (;;) {
    Id w;
    Phase phase;
    while (next_due(w, phase)) {
      if (on_run) on_run(w, clock_, phase);
      resume(w);
      handle(w);
    }
    if (!grants_.empty() && grant()) continue;  // the instant goes on with them
    const Timer* first = next_timer();
    if (!first) {
      blocking::acquire(never);  // only a token wakes any: the run ends around them
      continue;
    }
    const SimTime d = first->date;
    // At or past the sampler's next instant, the end, or once a finite
    // source has drained, another actor may run: SimGrid's clock goes there,
    // stopping at the sampler's instant on the way, where the sampler reads
    // before the tasks due then run. SimGrid sleeps to the nanosecond as a
    // double (seconds()) and the loop's clock is that nanosecond again.
    const SimTime sample = run_.sampler_wakes_at;
    if (d >= sample || d >= run_.stop_time || run_.drained_released) {
      const SimTime target = d > sample && sample < run_.stop_time ? sample : d;
      blocking::sleep_until(seconds(target));
      if (target >= sample) sg4::this_actor::yield();  // the sampler reads first at its instant
      clock_ = std::max(clock_, from_engine_seconds(sg4::Engine::get_clock()));
      if (target != d) continue;
    } else {
      clock_ = d;
    }
    // The timers due at the step's date end now, at one instant: made in the
    // order they were set.
    for (const Timer* t = next_timer(); t && t->date <= clock_; t = next_timer()) {
      const Id w = t->task;
      heap_.pop();
      Entry& f = tasks_[w];
      f.timer = 0;
      if (f.waiting) {  // a timed acquisition: it leaves the queue
        sems_[f.sem].leave(w);
        f.waiting = false;
        f.timed_out = true;
      }
      due(w, f.due);
    }
  }
}

}  // namespace vringsim

#include "sim/world/task_loop.hpp"

#include <simgrid/s4u/Actor.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>

#include "sim/world/shared.hpp"

namespace sg4 = simgrid::s4u;

namespace vringsim {

namespace {
constexpr size_t kNoSampler = std::numeric_limits<size_t>::max();
}

bool TaskLoop::near_the_end() const {
  return run_.drained_released || clock_ + 2 * precision_ >= run_.stop_time;
}

bool Wait::await_ready() {
  if (!loop_) {  // an actor of its own: the call is made in SimGrid now
    switch (kind_) {
      case Kind::Sleep: blocking::sleep_until(arg_); break;
      case Kind::Acquire:
        if (has_timeout_)
          timed_out_ = blocking::acquire_timeout(*sg_, arg_);
        else
          blocking::acquire(*sg_);
        break;
      case Kind::Release: (*sg_)->release(); break;
    }
    return true;
  }
  if (kind_ == Kind::Sleep && arg_ <= loop_->clock_) return true;  // SimGrid makes no call
  if (loop_->near_the_end()) sg4::this_actor::yield();
  return false;
}

void Wait::await_suspend(std::coroutine_handle<> h) { loop_->park(h, *this); }

bool Wait::await_resume() const {
  if (kind_ != Kind::Acquire) return false;
  return loop_ ? loop_->tasks_[loop_->current_].timed_out : timed_out_;
}

void TaskLoop::park(std::coroutine_handle<> h, const Wait& w) {
  Entry& e = tasks_[current_];
  e.resume_at = h;
  e.calling = true;
  e.call = w.kind_;
  e.sem = w.sem_;
  e.arg = w.kind_ == Call::Sleep ? w.arg_ - clock_ : w.arg_;
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
  switch (f.call) {
    case Call::Sleep: set_timer(w, clock_ + std::max(f.arg, precision_)); break;
    case Call::Acquire: {
      f.timed_out = false;
      Sem& s = sems_[f.sem];
      if (s.tokens > 0) {
        --s.tokens;
        answer(w);
      } else {
        s.waiters.push_back(w);
        f.waiting = true;
        if (f.arg > 0) set_timer(w, clock_ + std::max(f.arg, precision_));
      }
      break;
    }
    case Call::Release: {
      Sem& s = sems_[f.sem];
      if (!s.idle()) {
        const Id r = s.pop();
        tasks_[r].waiting = false;
        tasks_[r].timer = 0;  // its timeout, if any, is cancelled
        answer(r);
      } else {
        ++s.tokens;
      }
      answer(w);
      break;
    }
  }
}

const TaskLoop::Timer* TaskLoop::next_timer() {
  while (!heap_.empty() && tasks_[heap_.top().task].timer != heap_.top().seq) heap_.pop();
  return heap_.empty() ? nullptr : &heap_.top();
}

void TaskLoop::run() {
  const auto never = sg4::Semaphore::create(0);
  next_.clear();
  for (Id w = 0; w < tasks_.size(); ++w) next_.push_back(w);  // the order the actors were created in
  std::vector<Id> ran;
  size_t sampler_at = kNoSampler;  // the sampler's turn in the next sub-round
  for (;;) {
    while (!next_.empty()) {
      ran.swap(next_);
      next_.clear();
      for (size_t i = 0; i < ran.size(); ++i) {
        if (i == sampler_at) sg4::this_actor::yield();
        resume(ran[i]);
      }
      if (sampler_at == ran.size()) sg4::this_actor::yield();
      sampler_at = kNoSampler;
      for (Id w : ran) handle(w);
    }
    const Timer* first = next_timer();
    if (!first) {
      blocking::acquire(never);  // only a token wakes any: the run ends around them
      continue;
    }
    const double d = first->date;
    // Near the sampler's next instant, the end, or once a finite source has
    // drained, another actor may run: SimGrid's clock goes there, stopping
    // at each sampler instant on the way (each step then the same exact sum
    // as when the actors slept in SimGrid).
    const double margin = 2 * precision_;
    const double sample = run_.sampler_wakes_at;
    if (d + margin >= sample || d + margin >= run_.stop_time || run_.drained_released) {
      const double target = d >= sample + margin && sample < run_.stop_time ? sample : d;
      blocking::sleep_until(target);
      if (target >= sample) sg4::this_actor::yield();  // the sampler reads first at its instant
      clock_ = std::max(clock_, sg4::Engine::get_clock());
      ++steps_;
      if (target != d) continue;
      // A sampler instant within the precision after the step's date ends
      // in this step too, after the timers dated before it: the sampler
      // runs at its place in the sub-round.
      if (target < sample && sample - clock_ < precision_) sampler_at = 0;
    } else {
      clock_ += d - clock_;
      ++steps_;
    }
    // The timers due within the precision end now, in the heap's order
    // (SimGrid's test, |date - now| < precision: the difference of two close
    // doubles is exact, where now + precision would round).
    for (const Timer* t = next_timer(); t && std::abs(t->date - clock_) < precision_; t = next_timer()) {
      if (sampler_at != kNoSampler && t->date < sample) sampler_at = next_.size() + 1;
      const Id w = t->task;
      heap_.pop();
      Entry& f = tasks_[w];
      f.timer = 0;
      if (f.waiting) {  // a timed acquisition: it leaves the queue
        sems_[f.sem].leave(w);
        f.waiting = false;
        f.timed_out = true;
      }
      answer(w);
    }
  }
}

}  // namespace vringsim

namespace vringsim {

void run_to_end(Task<void>& task) {
  task.handle().resume();
  if (!task.done()) throw std::logic_error("a task without a loop waited outside SimGrid");
  task.rethrow_if_failed();
}

}  // namespace vringsim

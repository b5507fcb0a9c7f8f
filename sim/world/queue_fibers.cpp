#include "sim/world/queue_fibers.hpp"

#include <boost/context/protected_fixedsize_stack.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "sim/world/blocking.hpp"
#include "sim/world/shared.hpp"

namespace sg4 = simgrid::s4u;

namespace vringsim {

namespace {
constexpr double kNever = std::numeric_limits<double>::infinity();
}

bool QueueFibers::near_the_end() const {
  return run_.drained_released || clock_ + 2 * precision_ >= run_.stop_time;
}

void QueueFibers::suspend(Who w) {
  if (near_the_end()) sg4::this_actor::yield();
  Side& s = side_[w];
  s.caller = std::move(s.caller).resume();
  s.call = Call::None;
}

void QueueFibers::resume(Who w) {
  Side& s = side_[w];
  s.self = std::move(s.self).resume();
  if (s.failure) std::rethrow_exception(std::exchange(s.failure, nullptr));
}

void QueueFibers::start(Who w) {
  // An actor's stack in SimGrid is 8 MiB behind a guard page; Boost's default
  // is 128 KiB of heap with none, where an overflow would overwrite memory
  // silently. 1 MiB (mapped page by page as used) behind a guard page.
  boost::context::protected_fixedsize_stack stack(1 << 20);
  side_[w].self = boost::context::fiber(std::allocator_arg, stack, [this, w](boost::context::fiber&& caller) {
    Side& me = side_[w];
    me.caller = std::move(caller);
    try {
      me.body();
    } catch (const boost::context::detail::forced_unwind&) {
      throw;  // destroyed unfinished (the world, after the run): boost unwinds the stack
    } catch (...) {
      me.failure = std::current_exception();  // an error, or SimGrid ending the actor
    }
    me.call = Call::None;
    return std::move(me.caller);
  });
}

void QueueFibers::handle(Who w) {
  Side& s = side_[w];
  switch (s.call) {
    case Call::Sleep:
      set_timer(s, clock_ + std::max(s.arg, precision_));
      break;
    case Call::Acquire:
      s.timed_out = false;
      if (token_[w] > 0) {
        --token_[w];
        answer(w);
      } else {
        s.waiting_token = true;
        if (s.arg > 0) set_timer(s, clock_ + std::max(s.arg, precision_));
      }
      break;
    case Call::Release: {
      Side& r = side_[s.release_to];
      if (r.waiting_token) {
        r.waiting_token = false;
        r.timer = kNever;
        answer(s.release_to);
      } else {
        ++token_[s.release_to];
      }
      answer(w);
      break;
    }
    case Call::None: break;  // its body returned
  }
}

void QueueFibers::run() {
  const auto never = sg4::Semaphore::create(0);
  start(kDevice);
  start(kDriver);
  next_ = {kDevice, kDriver};  // the order the two actors were created in
  std::vector<Who> ran;
  for (;;) {
    while (!next_.empty()) {
      ran.swap(next_);
      next_.clear();
      for (Who w : ran) resume(w);
      for (Who w : ran) handle(w);
    }
    const double d = std::min(side_[kDevice].timer, side_[kDriver].timer);
    if (d == kNever) {
      blocking::acquire(never);  // only a token wakes either: the run ends around them
      continue;
    }
    // Near the sampler's next instant, the end, or once a finite source has
    // drained, another actor may run: SimGrid's clock goes there, stopping
    // at each sampler instant on the way (each step then the same exact sum
    // as when the two actors slept in SimGrid).
    const double margin = 2 * precision_;
    const double sample = run_.sampler_wakes_at;
    if (d + margin >= sample || d + margin >= run_.stop_time || run_.drained_released) {
      const double target = d >= sample + margin && sample < run_.stop_time ? sample : d;
      blocking::sleep_until(target);
      if (target >= sample) sg4::this_actor::yield();  // the sampler reads first at its instant
      clock_ = std::max(clock_, sg4::Engine::get_clock());
      ++steps_;
      if (target != d) continue;
    } else {
      clock_ += d - clock_;
      ++steps_;
    }
    // The timers due within the precision end now, in the heap's order.
    Who order[2] = {kDevice, kDriver};
    const Side& a = side_[kDevice];
    const Side& b = side_[kDriver];
    const bool driver_first = b.timer != a.timer ? b.timer < a.timer
                              : b.timer_step != a.timer_step ? b.timer_step < a.timer_step
                                                             : b.timer_seq > a.timer_seq;
    if (driver_first) std::swap(order[0], order[1]);
    for (Who w : order) {
      Side& s = side_[w];
      if (s.timer == kNever || std::abs(s.timer - clock_) >= precision_) continue;
      s.timer = kNever;
      if (s.waiting_token) {
        s.waiting_token = false;
        s.timed_out = true;
      }
      answer(w);
    }
  }
}

}  // namespace vringsim

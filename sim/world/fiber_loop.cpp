#include "sim/world/fiber_loop.hpp"

#include <boost/context/protected_fixedsize_stack.hpp>
#include <simgrid/s4u/Actor.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>

#include "sim/world/shared.hpp"

namespace sg4 = simgrid::s4u;

#if defined(BOOST_USE_UCONTEXT)
// The sanitizer build uses Boost.Context's ucontext variant, which with
// BOOST_USE_ASAN tells AddressSanitizer of every stack switch (fcontext
// does not, and ASan took a fiber's unwinding for a stack error). That
// variant keeps each thread's running fiber in the library, and Debian's
// library is built for fcontext only: the record lives here. (Each SimGrid
// actor is a thread in that build; the record is per thread, made the first
// time a thread switches, as Boost's own source does.)
namespace boost::context::detail {
namespace {
thread_local fiber_activation_record* running_record = nullptr;
thread_local std::size_t record_users = 0;
}  // namespace

fiber_activation_record_initializer::fiber_activation_record_initializer() noexcept {
  if (record_users++ == 0) running_record = new fiber_activation_record();
}
fiber_activation_record_initializer::~fiber_activation_record_initializer() {
  if (--record_users == 0) {
    delete running_record;
    running_record = nullptr;
  }
}
fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local fiber_activation_record_initializer initializer;
  return running_record;
}
}  // namespace boost::context::detail
#endif

namespace vringsim {

namespace {
constexpr size_t kNoSampler = std::numeric_limits<size_t>::max();
}

bool FiberLoop::near_the_end() const {
  return run_.drained_released || clock_ + 2 * precision_ >= run_.stop_time;
}

FiberLoop::Id FiberLoop::add_fiber(std::function<void()> body) {
  fibers_.emplace_back().body = std::move(body);
  return static_cast<Id>(fibers_.size() - 1);
}

void FiberLoop::suspend() {
  if (near_the_end()) sg4::this_actor::yield();
  Fiber& f = fibers_[current_];
  f.caller = std::move(f.caller).resume();
  f.call = Call::None;
}

void FiberLoop::resume(Id w) {
  current_ = w;
  Fiber& f = fibers_[w];
  f.self = std::move(f.self).resume();
  if (f.failure) std::rethrow_exception(std::exchange(f.failure, nullptr));
}

void FiberLoop::start(Id w) {
  // An actor's stack in SimGrid is 8 MiB behind a guard page; Boost's default
  // is 128 KiB of heap with none, where an overflow would overwrite memory
  // silently. 1 MiB (mapped page by page as used) behind a guard page.
  boost::context::protected_fixedsize_stack stack(1 << 20);
  fibers_[w].self = boost::context::fiber(std::allocator_arg, stack, [this, w](boost::context::fiber&& caller) {
    Fiber& me = fibers_[w];
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

void FiberLoop::handle(Id w) {
  Fiber& f = fibers_[w];
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
        fibers_[r].waiting = false;
        fibers_[r].timer = 0;  // its timeout, if any, is cancelled
        answer(r);
      } else {
        ++s.tokens;
      }
      answer(w);
      break;
    }
    case Call::None: break;  // its body returned
  }
}

const FiberLoop::Timer* FiberLoop::next_timer() {
  while (!heap_.empty() && fibers_[heap_.top().fiber].timer != heap_.top().seq) heap_.pop();
  return heap_.empty() ? nullptr : &heap_.top();
}

void FiberLoop::run() {
  const auto never = sg4::Semaphore::create(0);
  next_.clear();
  for (Id w = 0; w < fibers_.size(); ++w) {
    start(w);
    next_.push_back(w);  // the order the actors were created in
  }
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
      const Id w = t->fiber;
      heap_.pop();
      Fiber& f = fibers_[w];
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

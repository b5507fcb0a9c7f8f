// A receive queue's device and driver are C++20 coroutines (stackless): each
// call that may wait (a sleep, a semaphore taken or given) is a `co_await`,
// and a function that makes one is itself a coroutine returning Task<T>.
// A waiting queue keeps only the frames of the calls it is inside (a few
// hundred bytes each), not a stack: 65,536 queues fit in memory without a
// kernel setting (with a 1 MiB fiber stack behind a guard page per side,
// 16,384 ran out of memory maps).
//
// The task loop (task_loop.hpp) runs them: a call that waits suspends the
// task until the loop answers it, in the order of docs/model.md §7.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace vringsim {

namespace task_detail {

/// Coroutine frames are made and freed at every burst and poll: kept on
/// free lists by size (in 64-byte classes, linked through the freed frames
/// themselves), so a frame costs a pop, not a malloc. The actors of a run
/// take turns (never two at once), so one set of lists serves them all; the
/// frames stay with the process until it ends (a run's peak, a few KB a
/// queue).
class FramePool {
 public:
  static void* allocate(std::size_t n) {
    const std::size_t c = size_class(n);
    if (c >= kClasses) return ::operator new(n);
    Free*& head = heads_[c];
    if (Free* f = head) {
      head = f->next;
      return f;
    }
    return ::operator new((c + 1) * kGrain);
  }
  static void deallocate(void* p, std::size_t n) noexcept {
    const std::size_t c = size_class(n);
    if (c >= kClasses) return ::operator delete(p);  // (unsized: clang builds without -fsized-deallocation)
    Free*& head = heads_[c];
    head = new (p) Free{head};
  }

 private:
  struct Free {
    Free* next;
  };
  static constexpr std::size_t kGrain = 64, kClasses = 32;
  static std::size_t size_class(std::size_t n) { return (n + kGrain - 1) / kGrain - 1; }
  static inline Free* heads_[kClasses] = {};
};

struct PromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  static void* operator new(std::size_t n) { return FramePool::allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { FramePool::deallocate(p, n); }

  std::suspend_always initial_suspend() noexcept { return {}; }
  /// Done: the caller goes on (symmetric transfer: no stack grows).
  struct Final {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  Final final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};
template <>
struct Promise<void> : PromiseBase {
  void return_void() noexcept {}
};

}  // namespace task_detail

/// A coroutine that runs when awaited (or when started by whoever runs the
/// top of a queue's side) and hands its result, or its exception, to the
/// awaiter.
template <class T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : task_detail::Promise<T> {
    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      h.promise().continuation = caller;
      return h;
    }
    T await_resume() {
      if (h.promise().error) std::rethrow_exception(h.promise().error);
      if constexpr (!std::is_void_v<T>) return std::move(*h.promise().value);
    }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

  // For whoever runs the top of a side (task_loop.hpp).
  /// The frame, to resume first.
  std::coroutine_handle<> handle() const { return h_; }
  bool done() const { return !h_ || h_.done(); }
  /// Done with an exception: rethrows it (once).
  void rethrow_if_failed() {
    if (h_ && h_.done() && h_.promise().error) std::rethrow_exception(std::exchange(h_.promise().error, nullptr));
  }

 private:
  Handle h_;
};

/// A wait that usually has nothing to wait for: done at once (no frame
/// made), or a task to await. For the hot calls (an actor's sleeps, a core
/// that is never contended), whose common case must cost a branch.
class [[nodiscard]] Step {
 public:
  Step() = default;
  Step(Task<void>&& t) : task_(std::move(t)) {}  // NOLINT: a task is a step
  bool await_ready() const noexcept { return !task_.handle(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    return std::move(task_).operator co_await().await_suspend(caller);
  }
  void await_resume() {
    if (task_.handle()) std::move(task_).operator co_await().await_resume();
  }

 private:
  Task<void> task_;
};

}  // namespace vringsim

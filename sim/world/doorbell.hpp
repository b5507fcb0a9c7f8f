// The channel the device and the driver of one receive queue wake each other
// on: the kick (driver -> device, an eventfd edge) and the device telling a
// sleeping driver to look at the used ring again; and, for each side's
// lookahead (sim/engine/actor_clock.hpp), the earliest time the other may
// run next. Whether a kick or an interrupt is due is the ring's to say
// (Shared::kick_wanted, Shared::publish_due); this only carries it.
#pragma once

#include <cstdint>
#include <optional>

#include "sim/engine/task.hpp"
#include "sim/engine/task_loop.hpp"

namespace vringsim {

/// One side's wait for the other: a semaphore released only while its owner
/// waits, and at most once a wait, so no token outlives the wait it ended.
class Wakeup {
 public:
  void run_on(TaskLoop& loop) { sem_.run_on(loop); }
  /// Its owner waits and has not been woken yet: a wake() would end the wait.
  bool waiting() const { return waits_ && !signalled_; }
  /// Ends the wait (call only when waiting()). The release yields: the owner
  /// may run before the caller goes on.
  Wait wake() {
    signalled_ = true;
    return sem_.release();
  }
  /// Waits until woken or, given a deadline, until then. True if the deadline passed first.
  Task<bool> wait(std::optional<SimTime> timeout) {
    waits_ = true;
    signalled_ = false;
    const bool timed_out = co_await sem_.acquire(timeout);
    waits_ = false;
    // A wake at the instant the wait timed out released a token nobody took.
    if (signalled_ && !sem_.would_block()) co_await sem_.acquire();
    co_return timed_out;
  }
  /// A wake sent and not yet taken.
  bool pending() const { return !sem_.would_block(); }

 private:
  Semaphore sem_{0};
  bool waits_ = false, signalled_ = false;
};

class Doorbell {
 public:
  // A kick is an edge, not a token: the guest writes the device's eventfd
  // (ioeventfd); it stays set until the device reads it, and kicks sent
  // before then are the same one. A device waiting for a kick is woken by
  // it; a device that is running finds it when it next looks (a vhost
  // handle_rx queued again, QEMU's main loop) and pays for it then.

  /// Sends the kick (after the driver has brought the loop's clock up to its
  /// own: the device wakes at the kick's time).
  Step send_kick() {
    const SimTime now = clock();
    if (!kick_pending_) {
      kick_pending_ = true;
      kick_sent_at = now;
    }
    if (!device_wake_.waiting()) return {};
    // Before the release, which yields: the device may run and wait again
    // inside it, and publish its own next wake-up then.
    device_wakes_at = now;
    return wake(device_wake_);
  }
  /// The earliest time the device may run next, for the driver's lookahead:
  /// the end of its sleep; kNever while it waits for a kick (only the
  /// driver's kick wakes it, which resets this to the kick's time); kAnyTime
  /// when it cannot be known (it waits for a shared core). The run's
  /// nanoseconds (sim_time.hpp), as the lookahead compares them.
  SimTime device_wakes_at = 0;
  /// The same for the driver: the end of its sleep or timed wait; kNever
  /// while only the device can wake it.
  SimTime driver_wakes_at = 0;
  /// A kick sent and not yet taken by the device.
  bool kick_pending() const { return kick_pending_; }
  /// A wake-up sent to the waiting driver and not yet taken.
  bool interrupt_pending() const { return driver_wake_.pending(); }
  /// The device and the driver run as tasks of one actor (task_loop.hpp):
  /// the kick and interrupt semaphores and the clock are its.
  void run_on(TaskLoop& loop) {
    loop_ = &loop;
    device_wake_.run_on(loop);
    driver_wake_.run_on(loop);
  }
  /// The task loop's clock (SimGrid's before it runs on one).
  SimTime clock() const { return clock_of(loop_); }
  /// When the oldest kick not yet taken was sent.
  SimTime kick_sent_at = 0;
  /// Device: takes the pending kick (and every one sent with it).
  void take_kick() { kick_pending_ = false; }
  /// Device: waits for a kick, at most `timeout` if given. True if one came
  /// (it stays pending: take_kick() takes it). A kick already pending ends
  /// the wait at once.
  Task<bool> wait_for_kick(std::optional<SimTime> timeout = std::nullopt) {
    if (kick_pending_) co_return true;
    co_await device_wake_.wait(timeout);
    co_return kick_pending_;
  }
  /// Device -> driver, after computing a burst: a driver asleep must look at
  /// the used ring again (its next wake-up may now be earlier: the first new
  /// publication). Whether that publication interrupts it is decided when it
  /// happens (publish_due). Only while the driver waits (driver_waiting()),
  /// after the device has brought the loop's clock up to its own.
  bool driver_waiting() const { return driver_wake_.waiting(); }
  Step wake_driver() {
    driver_wakes_at = clock();  // before the release, as for a kick
    return wake(driver_wake_);
  }
  /// Driver: sleeps until the device wakes it or, given a deadline, until
  /// then. Returns true if the deadline passed first.
  Task<bool> sleep_until_woken(std::optional<SimTime> timeout) { return driver_wake_.wait(timeout); }

 private:
  static Task<void> wake(Wakeup& w) { co_await w.wake(); }
  TaskLoop* loop_ = nullptr;
  // What each side waits on: the device, kicks; the driver, a look at the used ring.
  Wakeup device_wake_, driver_wake_;
  bool kick_pending_ = false;
};

}  // namespace vringsim

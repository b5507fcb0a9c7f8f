// What a turn on a shared core costs the simulator, arbitrated by the queue
// engine (CorePool on the task loop, sim/engine/cores.hpp) and by SimGrid
// (an s4u::Mutex per core, each queue's side an actor): the choice
// docs/model.md §7 ("What SimGrid does and what the queue engine does")
// states. Two threads share one core, each taking it for a 1 us turn and
// giving it back, TURNS times each (FIFO: they alternate); wall time per
// turn, best of 3, each in a child process (one SimGrid engine a process).
//
// Usage: bench_arbitration [TURNS]
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xbt/log.h>
#include <simgrid/s4u.hpp>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "sim/engine/bare_engine.hpp"
#include "sim/engine/cores.hpp"
#include "sim/engine/run_state.hpp"
#include "sim/engine/task_loop.hpp"

namespace {

namespace sg4 = simgrid::s4u;
using namespace vringsim;

/// An engine with one host; `body(host)` creates the actors. Returns the
/// wall seconds engine.run() took; `clock_s` gets SimGrid's clock at the end.
template <class Body>
double in_engine(Body body, double& clock_s) {
  BareEngine engine("bench-arbitration");
  body(engine.host());
  const auto t0 = std::chrono::steady_clock::now();
  engine.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  clock_s = BareEngine::clock();
  return wall;
}

Task<void> turns(TaskLoop* loop, CorePool* core, int n) {
  for (int i = 0; i < n; ++i) {
    co_await core->acquire();
    co_await sleep_until(loop, loop->clock() + 1000);
    co_await core->release();
  }
}

double task_loop_run(int n) {
  RunState run(1);
  run.stop_time = kNever;
  run.stop_sampling();
  TaskLoop loop(run);
  CorePool core(1, 2);
  core.run_on(loop);
  for (int t = 0; t < 2; ++t) loop.add_task(turns(&loop, &core, n));
  // The loop's actor is a daemon (as in a run): the engine ends with the
  // actor that outlasts the turns.
  double clock_s = 0;
  const double s = in_engine(
      [&](sg4::Host* host) {
        sg4::Actor::create("loop", host, [&loop] { loop.run(); })->daemonize();
        sg4::Actor::create("end", host, [n] { sg4::this_actor::sleep_for(2.0 * n * 1e-6 + 1.0); });
      },
      clock_s);
  // Every turn ran: the loop's clock is at the last one's end.
  if (loop.clock() != SimTime{2} * n * 1000) {
    fmt::print(stderr, "bench_arbitration: the task loop ended at {} ns, not {}\n", loop.clock(), 2000LL * n);
    return -1;
  }
  return s;
}

double simgrid_run(int n) {
  double clock_s = 0;
  const double s = in_engine(
      [&](sg4::Host* host) {
        sg4::MutexPtr core = sg4::Mutex::create();
        for (int t = 0; t < 2; ++t)
          sg4::Actor::create(fmt::format("thread{}", t), host, [core, n] {
            for (int i = 0; i < n; ++i) {
              core->lock();
              sg4::this_actor::sleep_for(1e-6);
              core->unlock();
            }
          });
      },
      clock_s);
  // Every turn ran, one after the other: SimGrid's clock is at the last one's end.
  if (std::llround(clock_s * 1e9) != 2000LL * n) {
    fmt::print(stderr, "bench_arbitration: SimGrid ended at {} s, not {}\n", clock_s, 2e-6 * n);
    return -1;
  }
  return s;
}

/// Best of 3, each in a child (the wall seconds come back through a pipe).
template <class Fn>
double best(Fn fn) {
  double out = 1e300;
  for (int r = 0; r < 3; ++r) {
    int fds[2];
    if (::pipe(fds) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
      const double s = fn();
      (void)!::write(fds[1], &s, sizeof s);
      ::_exit(0);
    }
    double s = 1e300;
    (void)!::read(fds[0], &s, sizeof s);
    ::waitpid(pid, nullptr, 0);
    ::close(fds[0]);
    ::close(fds[1]);
    out = std::min(out, s);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 200000;
  const double loop_s = best([n] { return task_loop_run(n); });
  const double sg_s = best([n] { return simgrid_run(n); });
  const double turns_total = 2.0 * n;
  fmt::print("two threads, one core, {} turns of 1 us each (best of 3, wall time of the run):\n", turns_total);
  fmt::print("  queue engine (CorePool on the task loop): {:8.1f} ns a turn\n", loop_s / turns_total * 1e9);
  fmt::print("  SimGrid (s4u::Mutex, an actor a thread):  {:8.1f} ns a turn ({:.1f}x)\n", sg_s / turns_total * 1e9,
             sg_s / loop_s);
}

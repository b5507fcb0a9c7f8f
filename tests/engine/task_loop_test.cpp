// TaskLoop (sim/engine/task_loop.hpp): the order of simultaneous events is
// the model's rule (docs/model.md §7 "Simultaneous instants"): tasks due run
// by (time, phase, sequence), phases Due (a wait's time ran out), Woken (the
// receiver of a signal sent then), GoesOn (its sender). Hand cases check
// each part of the rule; random programs of sleeps and semaphore calls
// (equal dates, sleeps of 1 ns, dates 1 ns apart, several waiters and
// timeouts on one semaphore) check that no task ever
// runs before one with a smaller key that was already due, with and without
// the shuffle of what the rule leaves free, and that the shuffle does
// permute it.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xbt/log.h>
#include <simgrid/s4u.hpp>
#include <xbt/config.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/rng.hpp"
#include "sim/core/sanitizers.hpp"
#include "sim/engine/bare_engine.hpp"
#include "sim/engine/blocking.hpp"
#include "sim/engine/cores.hpp"
#include "sim/engine/run_state.hpp"
#include "sim/engine/task_loop.hpp"

namespace vringsim {
namespace {

namespace sg4 = simgrid::s4u;

enum class Op { Sleep, Acquire, Release };
struct ProgramStep {
  Op op;
  SimTime arg = 0;  ///< the sleep's duration; the acquisition's timeout (none if not above 0)
  uint32_t sem = 0;
};
using Program = std::vector<std::vector<ProgramStep>>;  ///< per fiber

Program random_program(Rng& rng, uint32_t fibers, uint32_t sems) {
  // Durations (ns) from a small set, so dates meet: equal ones, and 1 ns
  // apart.
  const SimTime durations[] = {1000, 2000, 3000, 1, 2, 999, 1001, 0, 730};
  Program p(fibers);
  for (auto& steps : p) {
    const int n = static_cast<int>(rng.uniform_int(5, 25));
    for (int i = 0; i < n; ++i) {
      const SimTime d = durations[rng.uniform_int(0, std::size(durations) - 1)];
      const auto sem = static_cast<uint32_t>(rng.uniform_int(0, sems - 1));
      switch (rng.uniform_int(0, 2)) {
        case 0: steps.push_back({Op::Sleep, d, 0}); break;
        // Every acquisition has a timeout: no program can wait forever.
        case 1: steps.push_back({Op::Acquire, d > 0 ? d : 1000, sem}); break;
        default: steps.push_back({Op::Release, 0, sem}); break;
      }
    }
  }
  return p;
}

/// What each call returned and when, in the order the calls returned; and
/// each event the loop ran, with its key.
struct Log {
  std::vector<std::string> lines;
  struct Ran {
    uint32_t task;
    SimTime time;
    TaskLoop::Phase phase;
  };
  std::vector<Ran> ran;
  void add(uint32_t fiber, size_t step, const char* what, SimTime t) {
    lines.push_back(fmt::format("fiber {} step {} {} at {}", fiber, step, what, t));
  }
};

/// Runs `p` as tasks of `loop`, logging to `log`.
Task<void> body(const Program& p, uint32_t f, std::vector<std::unique_ptr<Semaphore>>& sems, TaskLoop* loop, Log& log) {
  for (size_t i = 0; i < p[f].size(); ++i) {
    const ProgramStep& s = p[f][i];
    switch (s.op) {
      case Op::Sleep: {
        co_await sleep_until(loop, clock_of(loop) + s.arg);
        log.add(f, i, "slept", clock_of(loop));
        break;
      }
      case Op::Acquire: {
        const bool timed_out = co_await sems[s.sem]->acquire(s.arg);
        log.add(f, i, timed_out ? "timed out" : "acquired", clock_of(loop));
        break;
      }
      case Op::Release:
        co_await sems[s.sem]->release();
        log.add(f, i, "released", clock_of(loop));
        break;
    }
  }
}

/// In a child process (one SimGrid engine per process): an engine with one
/// host, a RunState with no sampler and no end, and `setup(loop)` adding the
/// tasks; runs the loop to its end, then `check()`'s exit code.
template <class Setup, class Check>
int in_engine(Setup setup, Check check) {
  BareEngine engine("task-loop-test");
  sg4::Host* host = engine.host();
  RunState run(1);
  run.stop_time = kNever;
  run.stop_sampling();
  TaskLoop loop(run);
  setup(loop);
  // The loop's actor is a daemon: the run ends once the last timer has
  // passed (this actor's sleep outlasts every program).
  sg4::Actor::create("loop", host, [&loop] { loop.run(); })->daemonize();
  sg4::Actor::create("end", host, [] { sg4::this_actor::sleep_for(1.0); });
  engine.run();
  return check();
}

/// Runs `fn` in a forked child; its exit code (-1 if it did not exit).
template <class Fn>
int forked(Fn fn) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) ::_exit(fn());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The program of `seed` as tasks, the free order drawn from `shuffle` (0:
/// the order made). Exit 1, the first wrong event on stderr, if time went
/// back or a Due event ran after an event of a later phase at its time; 2 if
/// it ran nothing.
int program_in_child(uint64_t seed, uint64_t shuffle) {
  Rng rng(seed, "task-loop-test");
  const auto fibers = static_cast<uint32_t>(rng.uniform_int(2, 6));
  const auto nsems = static_cast<uint32_t>(rng.uniform_int(1, 3));
  const Program program = random_program(rng, fibers, nsems);
  std::vector<std::unique_ptr<Semaphore>> sems;
  std::vector<uint32_t> tokens;
  for (uint32_t s = 0; s < nsems; ++s) tokens.push_back(static_cast<uint32_t>(rng.uniform_int(0, 2)));
  Log log;
  return in_engine(
      [&](TaskLoop& loop) {
        if (shuffle) loop.shuffle(shuffle);
        for (uint32_t s = 0; s < nsems; ++s) {
          sems.push_back(std::make_unique<Semaphore>(tokens[s]));
          sems.back()->run_on(loop);
        }
        for (uint32_t f = 0; f < fibers; ++f)
          loop.add_task(body(program, f, sems, &loop, log), f % 2 ? TaskLoop::Side::Guest : TaskLoop::Side::Host);
        loop.on_run = [&log](uint32_t task, SimTime time, TaskLoop::Phase phase) {
          log.ran.push_back({task, time, phase});
        };
      },
      [&] {
        if (log.ran.empty()) return 2;
        // Time never goes back; at one time, every Due event (a timer: all
        // of them made before the instant began) runs before any Woken or
        // GoesOn one.
        for (size_t i = 1; i < log.ran.size(); ++i) {
          const auto& a = log.ran[i - 1];
          const auto& b = log.ran[i];
          const auto due = [](TaskLoop::Phase p) { return p <= TaskLoop::Phase::GuestDue; };
          const bool back = b.time < a.time || (b.time == a.time && due(b.phase) && b.phase < a.phase);
          if (back) {
            for (size_t j = i > 20 ? i - 20 : 0; j < i; ++j)  // what ran before it
              fmt::print(stderr, "  ran task {} at {} phase {}\n", log.ran[j].task, log.ran[j].time,
                         static_cast<int>(log.ran[j].phase));
            fmt::print(stderr,
                       "seed {} shuffle {}: event {}: task {} at {} phase {} after task {} at {} "
                       "phase {}\n",
                       seed, shuffle, i, b.task, b.time, static_cast<int>(b.phase), a.task, a.time,
                       static_cast<int>(a.phase));
            return 1;
          }
        }
        return 0;
      });
}

/// A hand case: tasks made by `setup` (given the loop and the log); the
/// calls' log must be `want`.
template <class Setup>
void expect_order(const char* name, Setup setup, const std::vector<std::string>& want) {
  const int code = forked([&] {
    Log log;
    Semaphore sem(0);
    return in_engine([&](TaskLoop& loop) { setup(loop, log, sem); },
                     [&] {
                       if (log.lines == want) return 0;
                       for (const auto& l : log.lines) fmt::print(stderr, "  {}\n", l);
                       return 1;
                     });
  });
  EXPECT_EQ(code, 0) << name << ": the calls returned in another order (above)";
}

Task<void> sleeper(TaskLoop* loop, uint32_t id, SimTime until, Log& log) {
  co_await sleep_until(loop, until);
  log.add(id, 0, "slept", loop->clock());
}

TEST(TaskLoop, SleepsEndingAtOneInstantRunInTheOrderTheyBegan) {
  // Due, same time: the sequence, the order the waits began (SimGrid's heap
  // ran the newest of one step first).
  expect_order("same date",
               [](TaskLoop& loop, Log& log, Semaphore&) {
                 loop.add_task(sleeper(&loop, 0, 2000, log));
                 loop.add_task(sleeper(&loop, 1, 2000, log));
                 loop.add_task(sleeper(&loop, 2, 2000, log));
               },
               {"fiber 0 step 0 slept at 2000", "fiber 1 step 0 slept at 2000", "fiber 2 step 0 slept at 2000"});
  // A nanosecond apart: two instants, the earlier first. A date between two
  // nanoseconds is the later one (sim_time.hpp: rounded up), where it ties.
  expect_order("1 ns apart",
               [](TaskLoop& loop, Log& log, Semaphore&) {
                 loop.add_task(sleeper(&loop, 0, to_sim_time(2e-6 + 0.4e-9), log));
                 loop.add_task(sleeper(&loop, 1, 2001, log));
                 loop.add_task(sleeper(&loop, 2, to_sim_time(2e-6), log));
               },
               {"fiber 2 step 0 slept at 2000", "fiber 0 step 0 slept at 2001", "fiber 1 step 0 slept at 2001"});
}

TEST(TaskLoop, SumsOfDurationsAreExactInstants) {
  // Task 0 sleeps until 1.3 us; task 1 sleeps 0.3 us, then 1 us more. In
  // double seconds 3e-7 + 1e-6 is 1.2999999999999998e-06, below 1.3e-06:
  // the old clock ran task 1's wake-up first, by date, at what is one
  // instant of the model. In nanoseconds both are 1300, and the tie goes by
  // the sequence: task 0's timer was set first.
  expect_order("0.3 us + 1 us",
               [](TaskLoop& loop, Log& log, Semaphore&) {
                 loop.add_task(sleeper(&loop, 0, to_sim_time(1.3e-6), log));
                 loop.add_task([](TaskLoop* loop, Log& log) -> Task<void> {
                   co_await sleep_until(loop, loop->clock() + to_sim_time(0.3e-6));
                   co_await sleep_until(loop, loop->clock() + to_sim_time(1e-6));
                   log.add(1, 1, "slept", loop->clock());
                 }(&loop, log));
               },
               {"fiber 0 step 0 slept at 1300", "fiber 1 step 1 slept at 1300"});
}

TEST(TaskLoop, AtOneInstantTheHostsDueTasksRunBeforeTheGuests) {
  // Added guest first, begun first: the host's sleep still ends first.
  expect_order("host first",
               [](TaskLoop& loop, Log& log, Semaphore&) {
                 loop.add_task(sleeper(&loop, 0, 2000, log), TaskLoop::Side::Guest);
                 loop.add_task(sleeper(&loop, 1, 2000, log), TaskLoop::Side::Host);
                 loop.add_task(sleeper(&loop, 2, 2000, log), TaskLoop::Side::Guest);
               },
               {"fiber 1 step 0 slept at 2000", "fiber 0 step 0 slept at 2000", "fiber 2 step 0 slept at 2000"});
}

TEST(TaskLoop, ASignalsReceiverRunsAfterWhatWasDueAndBeforeItsSender) {
  // Task 0 waits for a token; tasks 1 and 2 sleep to 1 us, task 1 then
  // releases: at 1 us task 1 and 2 (Due), then 0 (Woken), then 1 goes on.
  expect_order("kick",
               [](TaskLoop& loop, Log& log, Semaphore& sem) {
                 sem.run_on(loop);
                 loop.add_task([](Semaphore& sem, Log& log) -> Task<void> {
                   const bool timed_out = co_await sem.acquire();
                   log.add(0, 0, timed_out ? "timed out" : "woken", 0);
                 }(sem, log));
                 loop.add_task([](TaskLoop* loop, Semaphore& sem, Log& log) -> Task<void> {
                   co_await sleep_until(loop, 1000);
                   log.add(1, 0, "due", 0);
                   co_await sem.release();
                   log.add(1, 1, "goes on", 0);
                 }(&loop, sem, log));
                 loop.add_task([](TaskLoop* loop, Log& log) -> Task<void> {
                   co_await sleep_until(loop, 1000);
                   log.add(2, 0, "due", 0);
                 }(&loop, log));
               },
               {"fiber 1 step 0 due at 0", "fiber 2 step 0 due at 0", "fiber 0 step 0 woken at 0",
                "fiber 1 step 1 goes on at 0"});
}

TEST(TaskLoop, ATimeoutAndAReleaseAtOneInstant) {
  // Task 0 waits at most 1 us; task 1 releases at 1 us. Both are Due then;
  // task 0's wait began first: it times out, waits again, and the release
  // wakes it (Woken) before task 1 goes on.
  expect_order("timeout",
               [](TaskLoop& loop, Log& log, Semaphore& sem) {
                 sem.run_on(loop);
                 loop.add_task([](Semaphore& sem, Log& log) -> Task<void> {
                   const bool timed_out = co_await sem.acquire(1000);
                   log.add(0, 0, timed_out ? "timed out" : "woken", 0);
                   const bool again = co_await sem.acquire(1000);
                   log.add(0, 1, again ? "timed out" : "took the token", 0);
                 }(sem, log));
                 loop.add_task([](TaskLoop* loop, Semaphore& sem, Log& log) -> Task<void> {
                   co_await sleep_until(loop, 1000);
                   co_await sem.release();
                   log.add(1, 0, "released", 0);
                 }(&loop, sem, log));
               },
               {"fiber 0 step 0 timed out at 0", "fiber 0 step 1 took the token at 0", "fiber 1 step 0 released at 0"});
}

TEST(TaskLoop, TheSamplerReadsAtItsNanosecondBeforeTheTasksDueThen) {
  // The sampler is a SimGrid actor; the loop sleeps in SimGrid to its
  // instant (the same nanosecond as a double) and lets it read first. Tasks
  // due at 999, 1000 and 1001 ns; the sampler reads at 1000 ns: after the
  // first, before the other two, and SimGrid's clock reads 1000 ns then.
  const int code = forked([] {
    BareEngine engine("task-loop-test");
    sg4::Host* host = engine.host();
    RunState run(1);
    run.stop_time = kNever;
    run.sampler_wakes_at = 1000;
    TaskLoop loop(run);
    Log log;
    for (const SimTime t : {SimTime{1001}, SimTime{1000}, SimTime{999}})
      loop.add_task(sleeper(&loop, static_cast<uint32_t>(t - 999), t, log));
    sg4::Actor::create("loop", host, [&loop] { loop.run(); })->daemonize();
    sg4::Actor::create("sampler", host, [&run, &log] {
      blocking::sleep_until(seconds(run.sampler_wakes_at));
      log.add(9, 0, "sampled", from_engine_seconds(sg4::Engine::get_clock()));
      run.stop_sampling();
    });
    sg4::Actor::create("end", host, [] { sg4::this_actor::sleep_for(1.0); });  // outlasts the tasks
    engine.run();
    const std::vector<std::string> want = {"fiber 0 step 0 slept at 999", "fiber 9 step 0 sampled at 1000",
                                           "fiber 1 step 0 slept at 1000", "fiber 2 step 0 slept at 1001"};
    if (log.lines == want) return 0;
    for (const auto& l : log.lines) fmt::print(stderr, "  {}\n", l);
    return 1;
  });
  EXPECT_EQ(code, 0) << "the sampler and the tasks ran in another order (above)";
}

TEST(TaskLoop, RandomProgramsRunInKeyOrderShuffledOrNot) {
  // (With each timer due at its own date, not at its step's instant, a sleep
  // of 1 ns begun at 730 ns ended at 731 ns after a task woken at 731 ns had
  // gone on: seed 24 failed.)
  const uint64_t seeds = VRINGSIM_ASAN ? 40 : 200;  // thread contexts under ASan
  for (uint64_t seed = 1; seed <= seeds; ++seed)
    for (const uint64_t shuffle : {uint64_t{0}, seed}) {
      const int code = forked([&] { return program_in_child(seed, shuffle); });
      ASSERT_EQ(code, 0) << "seed " << seed << " shuffle " << shuffle;
    }
}

TEST(TaskLoop, TheShuffleChangesTheOrderOfTiesAndOnlyThose) {
  // Three sleeps ending together: over a few shuffle seeds, more than one
  // order; and a sleep a microsecond later is always last.
  std::set<std::string> orders;
  for (uint64_t shuffle = 1; shuffle <= 8; ++shuffle) {
    int fd[2];
    ASSERT_EQ(::pipe(fd), 0);
    const int code = forked([&] {
      ::close(fd[0]);
      Log log;
      const int c = in_engine(
          [&](TaskLoop& loop) {
            loop.shuffle(shuffle);
            loop.add_task(sleeper(&loop, 0, 2000, log));
            loop.add_task(sleeper(&loop, 1, 2000, log));
            loop.add_task(sleeper(&loop, 2, 3000, log));
            loop.add_task(sleeper(&loop, 3, 2000, log));
          },
          [] { return 0; });
      std::string order;
      for (const auto& l : log.lines) order += l.substr(6, 1);
      if (::write(fd[1], order.data(), order.size()) != static_cast<ssize_t>(order.size())) return 3;
      return c;
    });
    ::close(fd[1]);
    char buf[16] = {};
    const auto n = ::read(fd[0], buf, sizeof buf);
    ::close(fd[0]);
    ASSERT_EQ(code, 0);
    ASSERT_EQ(n, 4);
    const std::string order(buf, 4);
    EXPECT_EQ(order[3], '2') << order;
    orders.insert(order);
  }
  EXPECT_GT(orders.size(), 1u);
}

/// A backend thread of a shared core pool: holds a core for bursts of
/// `burst` ns until `until`, logging each turn's start.
Task<void> turns(TaskLoop* loop, CorePool& pool, std::optional<CorePool::Thread> thread, uint32_t id, SimTime burst,
                 SimTime until, Log& log) {
  while (loop->clock() < until) {
    if (thread)
      co_await pool.acquire(*thread);
    else
      co_await pool.acquire();
    log.add(id, 0, "runs", loop->clock());
    co_await sleep_until(loop, loop->clock() + burst);
    if (thread)
      co_await pool.release(*thread);
    else
      co_await pool.release();
  }
}

/// Two threads, bursts of 3 and 1 us, on one core for 24 us, the free order
/// drawn from `shuffle`: the core time each had (in us), and the turns.
std::pair<std::vector<double>, std::string> two_on_one_core(CorePool::Rule rule, uint64_t shuffle) {
  int fd[2];
  if (::pipe(fd) != 0) return {};
  const int code = forked([&] {
    ::close(fd[0]);
    Log log;
    CorePool pool(1, 2, rule, 0.012);
    in_engine(
        [&](TaskLoop& loop) {
          if (shuffle) loop.shuffle(shuffle);
          pool.run_on(loop);
          const bool fair = rule == CorePool::Rule::Fair;
          const auto a = fair ? std::optional(pool.add_thread()) : std::nullopt;
          const auto b = fair ? std::optional(pool.add_thread()) : std::nullopt;
          loop.add_task(turns(&loop, pool, a, 0, 3000, 24000 - 1, log));
          loop.add_task(turns(&loop, pool, b, 1, 1000, 24000 - 1, log));
        },
        [] { return 0; });
    std::string out;
    for (const auto& l : log.lines)
      out += fmt::format("{}@{} ", l.substr(6, 1), std::stoll(l.substr(l.rfind(' ') + 1)) / 1000);
    return ::write(fd[1], out.data(), out.size()) == static_cast<ssize_t>(out.size()) ? 0 : 3;
  });
  ::close(fd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd[0]);
  if (code != 0) return {};
  // Turns before 24 us: A's are 3 us, B's 1 us.
  std::vector<double> held(2, 0);
  for (size_t at = 0; at < out.size();) {
    const size_t sp = out.find(' ', at);
    const std::string turn = out.substr(at, sp - at);
    const double start = std::stod(turn.substr(2));
    if (start < 24) held[turn[0] - '0'] += turn[0] == '0' ? 3 : 1;
    at = sp + 1;
  }
  return {held, out};
}

TEST(CorePool, TwoThreadsOnOneCoreByHand) {
  // Thread A runs bursts of 3 us, B of 1 us, both always runnable, one core.
  // First come, first served (a vCPU's NAPI poll list) they alternate:
  // A 0-3, B 3-4, A 4-7, B 7-8, ...: A has 18 of 24 us, B 6.
  const auto [fifo, fifo_turns] = two_on_one_core(CorePool::Rule::Fifo, 0);
  EXPECT_EQ(fifo, (std::vector<double>{18, 6})) << fifo_turns;
  // Least core time first (CFS): A 0-3 (equal times at 0: the thread added
  // first), then B until it has had as much (3-4, 4-5, 5-6), equal again at
  // 6: A (added first) 6-9, B 9-12, ...: 12 us each.
  const auto [fair, fair_turns] = two_on_one_core(CorePool::Rule::Fair, 0);
  EXPECT_EQ(fair, (std::vector<double>{12, 12})) << fair_turns;
  EXPECT_EQ(fair_turns.substr(0, 24), "0@0 1@3 1@4 1@5 0@6 1@9 ") << fair_turns;
  // Whatever order the requests and releases of an instant come in, the same
  // turns: the rule leaves nothing free.
  for (uint64_t shuffle = 1; shuffle <= 6; ++shuffle)
    EXPECT_EQ(two_on_one_core(CorePool::Rule::Fair, shuffle).second, fair_turns) << "shuffle " << shuffle;
}

TEST(CorePool, ASleeperComesBackAtMostTheCreditBehind) {
  // place_entity(): A runs alone in 1 us turns while B sleeps until 99.5 us,
  // then both want the core. B's time, 0, is placed a credit of 10 us behind
  // the least-run thread's at its last turn (A's 99 us, at 99 us): 89 us.
  // A has had 100 us when its turn ends at 100: B runs 11 turns (until it
  // has had as much; equal: A, added first), not 100.
  int fd[2];
  ASSERT_EQ(::pipe(fd), 0);
  const int code = forked([&] {
    ::close(fd[0]);
    Log log;
    CorePool pool(1, 2, CorePool::Rule::Fair, 10e-6);
    in_engine(
        [&](TaskLoop& loop) {
          pool.run_on(loop);
          const CorePool::Thread a = pool.add_thread();
          const CorePool::Thread b = pool.add_thread();
          loop.add_task(turns(&loop, pool, a, 0, 1000, 130000 - 1, log));
          loop.add_task([](TaskLoop* loop, CorePool& pool, CorePool::Thread b, Log& log) -> Task<void> {
            co_await sleep_until(loop, 99500);
            co_await turns(loop, pool, b, 1, 1000, 130000 - 1, log);
          }(&loop, pool, b, log));
        },
        [] { return 0; });
    int b_before_a = 0;  // B's turns after 100 us before A's first one
    bool a_seen = false;
    for (const auto& l : log.lines) {
      if (std::stoll(l.substr(l.rfind(' ') + 1)) < 100000 - 1) continue;
      if (l[6] == '0') a_seen = true;
      if (l[6] == '1' && !a_seen) ++b_before_a;
    }
    return b_before_a;
  });
  EXPECT_EQ(code, 11);
}

}  // namespace
}  // namespace vringsim

#include "sim/world/run_loop.hpp"

#include <fmt/format.h>
#include <simgrid/s4u.hpp>
#include <xbt/config.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/core/errors.hpp"
#include "sim/core/startup_stamp.hpp"
#include "sim/engine/blocking.hpp"

namespace sg4 = simgrid::s4u;

namespace vringsim {

namespace {
/// The time series' first columns, in the contract's order; every other
/// column a metric samples follows, in name order.
const std::vector<std::string> kContractColumns = {"posted_bytes", "tap_queue_packets", "delivered_packets",
                                                   "dropped_packets"};
}  // namespace

void RunLoop::run() {
  stuck_.assign(w_.queue_count(), 0);
  waiting_.assign(w_.queue_count(), 0);
  start_queues();
  start_sampler();
  start_controller();
  startup_stamp("engine runs");  // the actors start: what follows is the first event
  w_.engine->run();
  if (failure_) std::rethrow_exception(failure_);
  finish();
}

std::function<void()> RunLoop::guarded(std::function<void()> body) {
  // An exception escaping an actor would abort the process: each actor body
  // records the first one, stops every other actor, and run() rethrows it
  // once the engine has returned (so a broken invariant exits 3, not 134).
  return [this, body = std::move(body)] {
    try {
      body();
    } catch (const std::exception&) {  // SimGrid's kill exception is not one: it passes through
      if (!failure_) failure_ = std::current_exception();
      sg4::Actor::kill_all();
    }
  };
}

void RunLoop::start_queues() {
  // The devices and drivers as tasks of one actor, switched without SimGrid
  // (task_loop.hpp), started in the order of the queues, each device before
  // its driver. With or without the lookahead: the order of simultaneous
  // events is the loop's rule (docs/model.md §7), which actors of their own
  // would leave to SimGrid's heap.
  w_.tasks = std::make_unique<TaskLoop>(*w_.run);
  TaskLoop& loop = *w_.tasks;
  if (w_.options.shuffle_seed) loop.shuffle(w_.options.shuffle_seed);
  for (auto& pool : w_.host_pools) pool->run_on(loop);
  for (auto& guest : w_.vcpu_pools)
    for (auto& pool : guest) pool->run_on(loop);
  for (auto& Q : w_.queues) {
    HostDevice* device = Q.device.get();
    GuestDriver* driver = Q.driver.get();
    Q.shared->bell.run_on(loop);
    device->run_on(loop);
    driver->run_on(loop);
    loop.add_task(device->run(), TaskLoop::Side::Host);
    loop.add_task(driver->run(), TaskLoop::Side::Guest);
  }
  sg4::Actor::create("queues", w_.core_hosts[0], guarded([&loop] { loop.run(); }))->daemonize();
}

void RunLoop::admit_all(SimTime t) {
  // Every arrival and every publication of used entries up to `t` (and the
  // interrupts those raise) before the bus moves past `t`.
  // Publications first, on every queue: admitting may advance the bus (a
  // closed-loop source's feedback), and the interrupts they raise must be
  // on it before it passes them.
  for (auto& Q : w_.queues) Q.shared->publish_due(t);
  for (auto& Q : w_.queues) w_.run->add_fates(Q.device->admit_until(t, t));
}

void RunLoop::check_liveness(double t) {
  // The device waiting for a kick while the driver sleeps until an interrupt,
  // with used buffers it has not been told of, is a deadlock (zero host costs
  // once got there and delivered nothing with exit 0). At the instant a
  // device finishes frames the guest may not have run yet, so the state must
  // persist from one sample to the next to count.
  for (uint32_t k = 0; k < w_.queue_count(); ++k) {
    const RxQueue& Q = w_.queues[k];
    const bool now = Q.device->waiting_for_kick() && Q.driver->waiting_for_interrupt_only() &&
                     (!Q.shared->used.empty() || Q.shared->ring.used_pending() > 0);
    if (now && stuck_[k])
      throw InvariantError(fmt::format("liveness (queue {}): at {:.9f} s the device waits for a kick and the "
                                       "driver for an interrupt while used buffers wait to be seen",
                                       k, t));
    stuck_[k] = now;
    // Both waiting with nothing used and no kick on its way is the model's
    // own deadlock: the device wants more buffers than the driver will post
    // before it hears of a frame (e.g. the 2008 QEMU's 64 KiB with the 2008
    // refill rule on a small ring). Nothing will change: say so.
    const bool waiting = Q.device->waiting_for_kick() && Q.driver->waiting_for_interrupt_only() &&
                         !Q.shared->bell.kick_pending() && Q.shared->used.empty() && Q.shared->ring.used_pending() == 0;
    if (waiting && waiting_[k] && w_.deadlock_at < 0) {
      w_.deadlock_at = t;
      const uint64_t gate = DeviceSettings::bindings().load(w_.scenario.config).can_receive_bytes;
      w_.deadlock = fmt::format(
          "queue {} deadlocked by {:.6f} s: its device waits for buffers (a kick) and its driver for an "
          "interrupt, and the {} chain(s) ({} bytes) posted are fewer than the device waits for ({}) while the "
          "driver will post more only after a frame",
          k, t, Q.shared->ring.avail_pending(), Q.shared->ring.avail_bytes_upto(uint64_t{1} << 40),
          gate > 0 ? fmt::format("host.can_receive_bytes {}, or the frame at the front of the tap", gate)
                   : std::string("the frame at the front of the tap"));
    }
    waiting_[k] = waiting;
  }
}

void RunLoop::sample(double t, bool final) {
  std::vector<double> values;
  for (const auto& m : w_.run_metrics) m->sample(values);
  uint64_t free_descriptors = 0;
  for (const auto& Q : w_.queues) free_descriptors += Q.shared->ring.num_free();
  std::vector<double> row = {t, static_cast<double>(free_descriptors)};
  for (size_t i : column_source_) row.push_back(values[i]);
  // After the end is fixed no sample at or past it counts (finish() takes
  // the last one); a sample at the end's own instant taken before is
  // replaced there (TimeseriesSink::drop_held_from).
  if (!final && w_.ended && t >= w_.end_time) return;
  w_.series.offer(std::move(row));
}

void RunLoop::start_sampler() {
  // Columns: time, the rings' free descriptors, then what the metrics sample
  // (the contract's first, the others by name).
  std::vector<std::string> names;
  for (const auto& m : w_.run_metrics)
    for (auto& c : m->columns()) names.push_back(std::move(c));
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto rank = [](const std::string& n) {
    const auto it = std::find(kContractColumns.begin(), kContractColumns.end(), n);
    return static_cast<size_t>(it - kContractColumns.begin());
  };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(rank(names[a]), names[a]) < std::pair(rank(names[b]), names[b]);
  });
  column_source_ = order;
  std::vector<std::string> columns = {"time_s", "free_descriptors"};
  for (size_t i : order) columns.push_back(names[i]);
  w_.series.open(w_.options.timeseries, w_.options.timeseries_path, std::move(columns), w_.scenario.run.warmup_s,
                 w_.scenario.run.skip_idle_samples);

  // With several queues only the sampler advances the bus (a driver cannot
  // know how far the other devices have admitted): it also wakes at least
  // every millisecond between samples, so the buffered events stay few.
  // The instants are the run's nanoseconds (sim_time.hpp): k x the
  // interval, exactly; SimGrid sleeps to each as the nearest double.
  const double interval_s = w_.scenario.run.sample_interval_s;
  const SimTime interval = to_sim_time(interval_s);
  const auto substeps =
      w_.queue_count() > 1 && interval_s > 1e-3 ? static_cast<SimTime>(std::ceil(interval_s / 1e-3)) : 1;
  RunState& run = *w_.run;
  sg4::Actor::create("sampler", w_.core_hosts[0], guarded([this, &run, interval, substeps] {
                       for (SimTime k = 1;; ++k) {
                         for (SimTime j = 1; j < substeps; ++j) {
                           const SimTime at = (k - 1) * interval + j * interval / substeps;
                           if (at > run.stop_time) return run.stop_sampling();
                           run.sampler_wakes_at = at;
                           const double u = seconds(at);
                           blocking::sleep_until(u);
                           admit_all(at);
                           run.bus.advance(u);
                         }
                         const SimTime at = k * interval;
                         if (at > run.stop_time) return run.stop_sampling();
                         run.sampler_wakes_at = at;
                         const double t = seconds(at);
                         blocking::sleep_until(t);
                         admit_all(at);
                         run.bus.advance(t);
                         check_liveness(t);
                         sample(t);
                       }
                     }))
      ->daemonize();
}

void RunLoop::start_controller() {
  // Ends the run at stop.time_s, or earlier once a finite source has drained
  // (every frame delivered or dropped).
  w_.end_time = seconds(w_.run->stop_time);
  sg4::Actor::create("controller", w_.core_hosts[0], [this] {
    blocking::acquire_timeout(w_.run->drained, seconds(w_.run->stop_time));
    w_.end_time = seconds(from_engine_seconds(sg4::Engine::get_clock()));  // on the run's clock
    w_.ended = true;
  });
}

void RunLoop::finish() {
  // Bring every listener up to the end.
  const double end = w_.end_time;
  admit_all(to_sim_time(end));  // on the run's clock already: exact
  for (auto& Q : w_.queues) Q.shared->publish_due(to_sim_time(end));
  w_.run->bus.advance(end);
  // A metric that takes events as they are published (a CPU's busy spans)
  // counts the same events as one that takes them in time order: none
  // stamped after the end, which the bus never hands over.
  ensure(w_.run->bus.published_until() <= end, [&] {
    return fmt::format("an event stamped at {} s, after the run's end at {} s, reached a metric",
                       w_.run->bus.published_until(), end);
  });
  for (auto& m : w_.run_metrics) m->finish(end);
  for (auto& set : w_.queue_metrics)
    for (auto& m : set) m->finish(end);
  for (auto& set : w_.guest_metrics)
    for (auto& m : set) m->finish(end);
  // Rows sampled after a drained end would repeat the final state: keep them
  // only up to the end. The last row is the state at the end itself, taken
  // now that every arrival up to it is admitted and every event dispatched
  // (a sample at the end's instant may have been taken before a closed-loop
  // source's last frames were known; a drained trace ends between samples).
  w_.series.drop_held_from(end);
  sample(end, true);
  w_.series.close();
}

}  // namespace vringsim

#include "sim/world/books.hpp"

#include <functional>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/core/cost_model.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/ring_knee.hpp"
#include "sim/core/settings.hpp"
#include "sim/core/trend.hpp"
#include "sim/engine/blocking.hpp"

namespace vringsim {

namespace {

/// How a few figures spread over the guests: {key: {min, mean, max}}, the
/// distributions summary.json keeps of what guests.csv lists guest by guest.
Json spread_over(const Json& guests) {
  static const char* const kKeys[] = {"/throughput/delivered_gbps", "/packets/dropped_share", "/latency_us/p99",
                                      "/memory/pinned_bytes_total", "/cpu/host_utilization", "/cpu/guest_utilization"};
  Json out = Json::object();
  for (const char* key : kKeys) {
    const Json::json_pointer p(key);
    double lo = 0, hi = 0, sum = 0;
    size_t n = 0;
    for (const auto& [name, g] : guests.items()) {
      if (!g.contains(p)) continue;
      const double v = g.at(p).get<double>();
      lo = n ? std::min(lo, v) : v;
      hi = n ? std::max(hi, v) : v;
      sum += v;
      ++n;
    }
    if (n == 0) continue;
    std::string name = std::string(key + 1);
    std::replace(name.begin(), name.end(), '/', '.');
    out[name] = Json{{"min", lo}, {"mean", sum / static_cast<double>(n)}, {"max", hi}};
  }
  return out;
}

Json ledger_json(const Books::Ledger& b, Json s) {
  s["packets"] = Json{{"arrived", b.arrived.packets},
                      {"delivered", b.delivered.packets},
                      {"dropped", b.dropped.packets},
                      {"in_flight", b.in_flight.packets},
                      // beside the counts: the share of arrivals dropped (whole run)
                      {"dropped_share", b.arrived.packets ? static_cast<double>(b.dropped.packets) /
                                                                static_cast<double>(b.arrived.packets)
                                                          : 0.0}};
  s["bytes"] = Json{{"arrived", b.arrived.bytes},
                    {"delivered", b.delivered.bytes},
                    {"dropped", b.dropped.bytes},
                    {"in_flight", b.in_flight.bytes}};
  return s;
}

Json ring_json(const RingFigures& f) {
  return Json{{"size", f.size},
              {"bytes", f.ring_bytes},
              {"pinned_bytes", f.ring_pinned_bytes},
              {"descriptors_per_slot_mtu", f.descriptors_per_slot_mtu},
              {"descriptors_per_slot_64k", f.descriptors_per_slot_64k},
              {"capacity_packets_mtu", f.capacity_packets_mtu},
              {"capacity_packets_64k", f.capacity_packets_64k},
              {"unusable_descriptors", f.unusable_descriptors},
              {"indirect_table_bytes", f.indirect_table_bytes}};
}

/// Jain's fairness index: (sum x)^2 / (n sum x^2); 1 when every x is equal
/// (and, by convention, when all are 0).
double jain_index(const std::vector<double>& x) {
  double sum = 0, sq = 0;
  for (double v : x) sum += v, sq += v * v;
  return sq > 0 ? sum * sum / (static_cast<double>(x.size()) * sq) : 1.0;
}

}  // namespace

void Books::Ledger::add(const Ledger& o) {
  for (auto [sum, part] : {std::pair{&arrived, &o.arrived}, {&delivered, &o.delivered}, {&dropped, &o.dropped},
                           {&in_flight, &o.in_flight}}) {
    sum->packets += part->packets;
    sum->bytes += part->bytes;
  }
}

void Books::release_ring(uint32_t k) {
  // Queue k's ledger is taken and its ring checked: what follows reads the
  // actors' counters and the metrics, never a ring, a posted chain or what
  // the device wrote at a head. Those are most of a queue's memory, and the
  // queues' figures written out from here on (a JSON object a queue, ~8.7
  // KiB) would otherwise sit on top of them at the run's peak.
  RxQueue& Q = w_.queues[k];
  const VirtQueue& ring = Q.shared->ring;
  Q.shared->ring = VirtQueue(1, ring.event_idx(), ring.indirect(), ring.packed());
  std::vector<Packet>().swap(Q.shared->packet_at);
  std::vector<uint16_t>().swap(Q.shared->num_buffers_at);
  Q.driver->release_postings();
}

Books::Ledger Books::queue_ledger(uint32_t k) const {
  // Every count here is the actors' own, none the metrics': the device
  // counts what it admitted and dropped, the driver what it delivered.
  const RxQueue& Q = w_.queues[k];
  const HostDevice& dev = *Q.device;
  const GuestDriver& drv = *Q.driver;
  uint64_t guest_bytes = 0;
  const uint64_t in_guest = drv.processing_after(to_sim_time(w_.end_time), &guest_bytes);
  Ledger b;
  b.arrived = {dev.admitted_packets(), dev.admitted_bytes()};
  for (int r = 0; r < kDropReasons; ++r) {
    b.dropped.packets += dev.dropped(static_cast<DropReason>(r)).packets;
    b.dropped.bytes += dev.dropped(static_cast<DropReason>(r)).bytes;
  }
  b.delivered = {drv.collected_packets() - in_guest, drv.collected_bytes() - guest_bytes};
  const UsedTimeline& used = Q.shared->used;  // finished by the device: held (unpublished) or published
  b.in_flight.packets =
      dev.tap_packets() + dev.batch_packets() + used.held_packets() + (used.published_packets() - drv.collected_packets()) +
      in_guest;
  b.in_flight.bytes =
      dev.tap_bytes() + dev.batch_bytes() + used.held_bytes() + (used.published_bytes() - drv.collected_bytes()) +
      guest_bytes;
  return b;
}

void Books::check_conservation(const Ledger& b, const std::string& where) const {
  if (b.arrived.packets != b.delivered.packets + b.dropped.packets + b.in_flight.packets)
    throw InvariantError(fmt::format("packet conservation{}: arrived {} != delivered {} + dropped {} + in flight {}",
                                     where, b.arrived.packets, b.delivered.packets, b.dropped.packets,
                                     b.in_flight.packets));
  if (b.arrived.bytes != b.delivered.bytes + b.dropped.bytes + b.in_flight.bytes)
    throw InvariantError(fmt::format("byte conservation{}: arrived {} != delivered {} + dropped {} + in flight {}",
                                     where, b.arrived.bytes, b.delivered.bytes, b.dropped.bytes, b.in_flight.bytes));
}

void Books::check_events(const Json& counted, const Ledger& b, const std::string& where) const {
  // The metrics counted events; the actors counted state. They must agree.
  for (const auto& [what, tally] : {std::pair{"arrived", b.arrived}, {"delivered", b.delivered}, {"dropped", b.dropped}})
    if (counted["packets"][what] != tally.packets || counted["bytes"][what] != tally.bytes)
      throw InvariantError(fmt::format("the events{} count {} {} packets ({} bytes), the actors {} ({})", where,
                                       what, counted["packets"][what].dump(), counted["bytes"][what].dump(),
                                       tally.packets, tally.bytes));
}

void Books::add_ring_knee(Json& s) const {
  // At the rate each queue delivered (the run's mean over its queues) and
  // the utilisation the run measured: `vringsim ring-size` and the ring-size
  // figure set it beside the simulated curve.
  const double pps = s["throughput"]["delivered_pps"].get<double>() / w_.queue_count();
  const RingKnee k = ring_knee(w_.scenario.config, pps, s["ring"]["descriptors_per_slot_mtu"].get<double>(),
                               s["cpu"]["guest_utilization"].get<double>(), s["cpu"]["host_utilization"].get<double>());
  s["ring"]["knee_slots"] = k.slots;
  s["ring"]["knee_entries"] = k.entries;
}

Json Books::measured(const MetricSet& metrics) const {
  Json j = Json::object();
  for (const auto& m : metrics) m->write(j, w_.end_time);
  return j;
}

RunResult Books::close() {
  const uint32_t nq = w_.queue_count();
  const bool topology = w_.topology().declared;
  std::vector<Ledger> ledgers(nq);
  std::vector<Json> queue_measured(topology ? nq : 0);  // each queue's metrics, written once
  Ledger total;
  for (uint32_t k = 0; k < nq; ++k) {
    w_.queues[k].shared->ring.check_invariants();
    ledgers[k] = queue_ledger(k);
    release_ring(k);
    const std::string where = nq > 1 ? fmt::format(" (queue {})", k) : std::string();
    check_conservation(ledgers[k], where);
    if (topology) {
      queue_measured[k] = measured(w_.queue_metrics[k]);
      check_events(queue_measured[k], ledgers[k], where);
    }
    total.add(ledgers[k]);
  }
  Json s = run_summary();
  check_events(s, total, "");
  s = ledger_json(total, std::move(s));
  RunResult result;
  if (topology) add_topology(s, result, ledgers, std::move(queue_measured));
  add_ring_knee(s);
  add_provenance(s);
  write_trace();
  result.name = w_.scenario.name;
  result.summary = std::move(s);
  result.ts_columns = w_.series.columns();
  result.ts_rows = std::move(w_.series.rows());
  result.ts_row_count = w_.series.row_count();
  result.ts_skip_idle = w_.scenario.run.skip_idle_samples;
  if (w_.options.timeseries == TimeseriesMode::Stream) result.ts_file = w_.options.timeseries_path;
  result.bus_events = w_.run->bus.emitted();
  result.blocking_calls = blocking::calls;
  result.loop_waits = blocking::loop_waits;
  return result;
}

namespace {
/// `x` rounded to two significant digits, up or down: a setting to suggest.
double two_digits(double x, bool up) {
  if (!(x > 0)) return 0;
  const double unit = std::pow(10.0, std::floor(std::log10(x)) - 1);
  const double n = x / unit;
  // (90.000000001 is 90: the rounding noise of a sum of timestamps is no reason to suggest 91.)
  return (up ? std::ceil(n - 1e-6) : std::floor(n + 1e-6)) * unit;
}
}  // namespace

std::string Books::unmeasured_advice() const {
  const std::string generic = "lower measure.warmup_s or give the run more traffic";
  std::optional<TraceSpan> sp;
  for (const auto& in : w_.inputs)
    if ((sp = in.source->trace_span())) break;
  if (!sp) return generic;
  const double warmup = w_.scenario.run.warmup_s, stop = w_.scenario.run.stop_time_s;
  const std::string passes = sp->loops > 1 ? fmt::format(" over its {} passes", sp->loops) : "";
  if (!sp->own_timing || !sp->timed) {
    // Sent as the wire paces it, not by its timestamps: the frames ran out.
    return fmt::format("the {} {} ({} frames{}{}) was all sent by {} s: lower measure.warmup_s below that or "
                       "raise {}loops",
                       sp->noun, sp->file, sp->frames,
                       sp->timed ? fmt::format(", spanning {} s, timing not replayed", sp->duration_s) : std::string(),
                       passes, w_.end_time, sp->prefix);
  }
  const std::string span = fmt::format("the {} {} spans {} s, its frames due {} s to {} s after the start{}", sp->noun,
                                       sp->file, sp->duration_s, sp->first_s, sp->last_s, passes);
  if (sp->last_s > stop)
    return fmt::format("{}, and stop.time_s ({} s) ends the run before the last: --set stop.time_s={}", span, stop,
                       two_digits(sp->last_s, true));
  if (sp->last_s <= warmup) {
    if (sp->last_s <= 0) return fmt::format("{}: give the run more traffic ({}loops)", span, sp->prefix);
    return fmt::format("{}, all before measure.warmup_s ({} s): --set measure.warmup_s={}", span, warmup,
                       two_digits(sp->last_s / 2, false));
  }
  return fmt::format("{}: {}", span, generic);
}

Json Books::run_summary() {
  const RingFigures& f = w_.figures;
  const uint32_t nq = w_.queue_count();
  Json s = measured(w_.run_metrics);
  s["ring"].update(ring_json(f));
  s["memory"]["bytes_per_slot_mtu"] = f.bytes_per_slot_mtu;
  s["memory"]["posted_bytes_full"] = nq * f.posted_bytes_full;
  s["memory"]["ring_pinned_bytes_full"] =
      nq * (f.ring_pinned_bytes + f.posted_bytes_full + f.indirect_table_bytes_full);
  // What the guests pin: every ring's pages, plus the most buffer memory
  // posted at once and the most indirect-table memory (both peak with a
  // full ring).
  s["memory"]["pinned_bytes_total"] = nq * f.ring_pinned_bytes + s["memory"]["posted_bytes_peak"].get<uint64_t>() +
                                      s["memory"]["indirect_table_bytes_peak"].get<uint64_t>();
  s["run"] = Json{{"end_s", w_.end_time}};
  // Was anything measured? A trace that ends before the warm-up (or a run
  // where no frame arrives after it) would otherwise report 0 Gb/s as if
  // that were a result.
  const double warmup = w_.scenario.run.warmup_s;
  const double window = s["throughput"]["measured_s"].get<double>();
  Json m = {{"warmup_s", warmup}, {"end_s", w_.end_time}, {"window_s", window}};
  if (window <= 0)
    m["problem"] = fmt::format("the run ended at {} s, before measure.warmup_s ({} s): {}", w_.end_time, warmup,
                               unmeasured_advice());
  else if (s["throughput"]["offered_pps"].get<double>() <= 0)
    m["problem"] = fmt::format("no frame arrived in the measured window ({} s to {} s): {}", warmup, w_.end_time,
                               unmeasured_advice());
  else if (w_.deadlock_at >= 0 && w_.deadlock_at <= w_.end_time) {
    m["deadlock_s"] = w_.deadlock_at;
    m["problem"] = w_.deadlock;
  }
  m["valid"] = !m.contains("problem");
  judge_steady_state(m, warmup);
  // Rows sampled, and those timeseries.csv holds (idle runs thinned).
  m["samples"] = w_.series.row_count();
  m["timeseries_rows"] = w_.series.rows_written();
  s["measure"] = std::move(m);
  add_device_figures(s);
  if (w_.options.check) s["check"] = Json{{"events_checked", w_.checks}};
  return s;
}

namespace {

/// A level's mean over ten equal slices of the window (each sample weighted
/// by the time since the previous one), as points (slice middle, mean): the
/// refill sawtooth and the sampling noise average out within a slice, a
/// drift through the window does not.
struct Sliced {
  std::vector<double> t, y;
};
Sliced slice_means(const std::vector<double>& t, const std::vector<double>& y, double from, double window) {
  constexpr int kSlices = 10;
  std::vector<double> sum(kSlices, 0), weight(kSlices, 0);
  for (size_t i = 1; i < t.size(); ++i) {
    const double dt = t[i] - t[i - 1];
    if (!(dt > 0)) continue;
    const int k = std::clamp(static_cast<int>((t[i] - from) / window * kSlices), 0, kSlices - 1);
    sum[k] += y[i] * dt;
    weight[k] += dt;
  }
  Sliced out;
  for (int k = 0; k < kSlices; ++k)
    if (weight[k] > 0) {
      out.t.push_back(from + (k + 0.5) * window / kSlices);
      out.y.push_back(sum[k] / weight[k]);
    }
  return out;
}

}  // namespace

void Books::judge_steady_state(Json& m, double warmup) const {
  // A backlog or ring occupancy that moves through the whole measured window
  // means the averages describe a transient (capacity runs once showed 0
  // drops at 0.1 s and 24,936 at 0.6 s). Judged on the sampled series: the
  // least-squares drift over the window against a tenth of what the queue or
  // ring holds, when the line explains most of the variance. The figures
  // users quote are judged the same way: the posted buffer memory (its mean
  // is memory.posted_bytes_mean) and the delivered rate (throughput.*).
  const std::vector<double>& t = w_.series.window_t();
  const std::vector<double>& tap = w_.series.window_tap();
  const std::vector<double>& free = w_.series.window_free();
  const std::vector<double>& posted = w_.series.window_posted();
  const std::vector<double>& delivered = w_.series.window_delivered();
  const double window = w_.end_time - warmup;
  Json trend = {{"samples", t.size()}};
  if (t.size() < 10 || window <= 0) {
    m["steady"] = nullptr;  // too few samples in the window to judge
    m["trend"] = std::move(trend);
    return;
  }
  const double queues = w_.queue_count();
  const Trend tap_trend = fit_trend(t, tap), free_trend = fit_trend(t, free);
  trend["tap_queue_packets_per_s"] = tap_trend.slope;
  trend["tap_queue_r2"] = tap_trend.r2;
  trend["free_descriptors_per_s"] = free_trend.slope;
  trend["free_descriptors_r2"] = free_trend.r2;
  // Posted memory and the delivered rate: means over ten slices of the window
  // (the rate from the cumulative delivered count between samples).
  const Sliced posted_sl = slice_means(t, posted, warmup, window);
  std::vector<double> rate(t.size(), 0);
  for (size_t i = 1; i < t.size(); ++i)
    if (t[i] > t[i - 1]) rate[i] = (delivered[i] - delivered[i - 1]) / (t[i] - t[i - 1]);
  const Sliced rate_sl = slice_means(t, rate, warmup, window);
  const Trend posted_trend = fit_trend(posted_sl.t, posted_sl.y), rate_trend = fit_trend(rate_sl.t, rate_sl.y);
  trend["posted_bytes_per_s"] = posted_trend.slope;
  trend["posted_bytes_r2"] = posted_trend.r2;
  trend["delivered_pps_per_s"] = rate_trend.slope;
  trend["delivered_pps_r2"] = rate_trend.r2;
  // Moving: a line explains most of the variance (R^2 > 0.8) and it drifts
  // by more than a tenth of the level's mean, and more than a frame per queue
  // (the taps) or half the rings' entries (the free descriptors), over the
  // window.
  // For the rings the floor is half their entries: the 2008 refill rule lets
  // a ring drain to half before it refills, a sawtooth that a sparse trace
  // may cover only part of. The posted memory is judged on slice means (the
  // sawtooth averages out within a slice) with a floor of one MTU slot's
  // buffers per queue; the delivered rate on slice means with a floor of
  // three standard deviations of a Poisson count of the packets delivered
  // in the window (noise, not a trend).
  auto moving = [&](const Trend& tr, const std::vector<double>& y, double floor) {
    double mean = 0;
    for (double v : y) mean += v;
    mean /= static_cast<double>(y.size());
    const double drift = std::fabs(tr.slope * window);
    return tr.r2 > 0.8 && drift > std::max(0.1 * std::fabs(mean), floor);
  };
  auto mean_of = [](const std::vector<double>& y) {
    double mean = 0;
    for (double v : y) mean += v;
    return y.empty() ? 0.0 : mean / static_cast<double>(y.size());
  };
  std::string problem;
  const double tap_drift = tap_trend.slope * window, free_drift = free_trend.slope * window;
  const double posted_drift = posted_trend.slope * window, rate_drift = rate_trend.slope * window;
  const double delivered_in_window = delivered.back() - delivered.front();
  if (moving(tap_trend, tap, queues))
    problem = fmt::format("the tap backlog {} by {:.0f} frames over the measured window ({:.0f}/s, R^2 {:.2f})",
                          tap_drift > 0 ? "grew" : "shrank", std::fabs(tap_drift), tap_trend.slope, tap_trend.r2);
  else if (moving(free_trend, free, 0.5 * w_.scenario.run.ring_size * queues))
    problem = fmt::format("the rings' free descriptors {} by {:.0f} over the measured window ({:.0f}/s, R^2 {:.2f})",
                          free_drift > 0 ? "grew" : "fell", std::fabs(free_drift), free_trend.slope, free_trend.r2);
  else if (posted_sl.y.size() >= 3 &&
           moving(posted_trend, posted_sl.y, static_cast<double>(w_.figures.bytes_per_slot_mtu) * queues))
    problem = fmt::format(
        "the posted buffer memory {} by {:.0f} bytes over the measured window (mean {:.0f} B, {:.0f} B/s, R^2 "
        "{:.2f}): memory.posted_bytes_mean depends on the window",
        posted_drift > 0 ? "grew" : "fell", std::fabs(posted_drift), mean_of(posted_sl.y), posted_trend.slope,
        posted_trend.r2);
  else if (rate_sl.y.size() >= 3 && moving(rate_trend, rate_sl.y, 3 * std::sqrt(std::max(delivered_in_window, 1.0)) / window))
    problem = fmt::format(
        "the delivered rate {} by {:.0f} packets/s over the measured window (mean {:.0f} packets/s, R^2 {:.2f}): "
        "throughput.* depends on the window",
        rate_drift > 0 ? "rose" : "fell", std::fabs(rate_drift), mean_of(rate_sl.y), rate_trend.r2);
  m["steady"] = problem.empty();
  if (!problem.empty())
    m["steady_problem"] = problem + ": lengthen stop.time_s (and measure.warmup_s) until it levels off";
  m["trend"] = std::move(trend);
}

void Books::add_device_figures(Json& s) const {
  // Faulty chains the devices found and the guests posted; broken devices.
  std::array<uint64_t, kChainFaults> bad{}, injected{};
  uint64_t broken = 0, rx_length_errors = 0, xdp_drops = 0;
  double broken_at = 0;
  for (const auto& Q : w_.queues) {
    for (int k = 1; k < kChainFaults; ++k) {
      bad[k] += Q.device->bad_chains()[k];
      injected[k] += Q.driver->injected()[k];
    }
    if (Q.device->broken() && (!broken || seconds(Q.device->broken_at()) < broken_at))
      broken_at = seconds(Q.device->broken_at());
    broken += Q.device->broken() ? 1 : 0;
    rx_length_errors += Q.driver->rx_length_errors();
    xdp_drops += Q.driver->xdp_drops();
  }
  for (int k = 1; k < kChainFaults; ++k) s["host"]["bad_chains"][chain_fault_name(static_cast<ChainFault>(k))] = bad[k];
  s["host"]["broken"] = broken;  // devices (queues) broken; 0 or 1 with one queue
  if (broken) s["host"]["broken_at_s"] = broken_at;
  s["guest"]["rx_length_errors"] = rx_length_errors;
  // Frames the guest's XDP program dropped: collected from the ring (counted
  // in the delivered figures, which are the driver's) but given to no socket.
  if (w_.queues.front().driver->options().xdp_action == DriverSettings::XdpAction::Drop) s["guest"]["xdp_drops"] = xdp_drops;
  const FaultPlan& faults = *w_.faults;
  if (faults.bad_chain_rate() > 0)
    for (ChainFault k : faults.bad_chain_kinds())
      s["faults"]["bad_chain"]["injected"][chain_fault_name(k)] = injected[static_cast<int>(k)];
}

void Books::add_topology(Json& s, RunResult& result, const std::vector<Ledger>& ledgers,
                         std::vector<Json> queue_measured) const {
  // Per queue and per guest: the measured keys and the books. Totals of what
  // several threads do at once are the metrics' to make (total_from_queues).
  const Topology& topo = w_.topology();
  const RingFigures& f = w_.figures;
  auto entity = [&](Json measured_keys, const Ledger& b, uint32_t rings) {
    Json j = ledger_json(b, std::move(measured_keys));
    j["memory"]["pinned_bytes_total"] = rings * f.ring_pinned_bytes + j["memory"]["posted_bytes_peak"].get<uint64_t>() +
                                        j["memory"]["indirect_table_bytes_peak"].get<uint64_t>();
    return j;
  };
  Json guests = Json::object();
  // Each queue's figures exist once, in its guest's "queues"; the totals
  // read them there (a copy of every queue's JSON, ~8 KiB a queue, was the
  // largest part of what closing the books added to a run's peak).
  std::vector<const Json*> parts(w_.queue_count(), nullptr);
  std::vector<double> gbps;
  for (uint32_t g = 0; g < topo.guests.size(); ++g) {
    const auto& gst = topo.guests[g];
    Ledger gb;
    Json qs = Json::object();
    for (uint32_t q = 0; q < gst.queues; ++q) {
      const uint32_t k = gst.first_queue + q;
      gb.add(ledgers[k]);
      Json& qj = qs[std::to_string(q)] = entity(std::move(queue_measured[k]), ledgers[k], 1);
      parts[k] = &qj;  // (moving the objects that hold it moves no element: the pointer stays good)
    }
    Json gj = entity(measured(w_.guest_metrics[g]), gb, gst.queues);
    gj["queues"] = std::move(qs);
    gbps.push_back(gj["throughput"]["delivered_gbps"].get<double>());
    guests[gst.name] = std::move(gj);
    result.guest_order.push_back(gst.name);
  }
  s["per_guest"] = spread_over(guests);
  result.guests = std::move(guests);
  Capacity cap;
  cap.queues = w_.queue_count();
  cap.host_cores = cap.vcpus = 0;
  for (const auto& c : topo.cores) cap.host_cores += c.count;
  for (const auto& g : topo.guests) cap.vcpus += g.vcpus;
  for (const auto& m : w_.run_metrics) m->total_from_queues(s, parts, cap);
  s["fairness"] = Json{{"jain_throughput", jain_index(gbps)}};
  s["topology"] = Json{{"guests", topo.guests.size()},
                       {"queues", cap.queues},
                       {"host_cores", cap.host_cores},
                       {"vcpus", cap.vcpus},
                       {"sources", topo.sources.size()}};
}

void Books::add_provenance(Json& s) const {
  const Scenario& sc = w_.scenario;
  s["policy"] = Json{{"name", sc.run.policy}};
  // The policy's own figures, summed over the queues (they are counts).
  // (Keys may be numbers, "1536": walked as object keys, never as pointers,
  // which would read them as array indexes.)
  const std::function<void(Json&, const Json&)> add = [&add](Json& into, const Json& from) {
    for (auto it = from.begin(); it != from.end(); ++it) {
      const bool have = into.contains(it.key());
      ensure(!have || into[it.key()].type() == it.value().type(),
             "a policy reported \"" + it.key() + "\" as a number on one queue and not on another");
      if (it.value().is_object())
        add(into[it.key()], it.value());
      else
        into[it.key()] = have ? Json(into[it.key()].get<uint64_t>() + it.value().get<uint64_t>()) : it.value();
    }
  };
  for (const RxQueue& q : w_.queues) {
    Json r = Json::object();
    q.policy->report(r);
    add(s["policy"], r);
  }
  const VirtioSetup& v = sc.virtio;
  s["virtio"] = Json{{"features", feature_names(v.negotiated)},
                     {"features_from", v.from_policy ? "policy" : "virtio.features"},
                     {"receive_mode", rx_mode_name(v.mode)},
                     {"header_bytes", v.header_bytes},
                     {"mtu", v.mtu},
                     {"ring", Json{{"layout", v.packed() ? "packed" : "split"}, {"event_idx", v.event_idx()}}}};
  s["provenance"] = Json{{"version", version()},
                         {"scenario", sc.file},
                         {"scenario_sha256", sc.sha256()},
                         {"seed", w_.seed},
                         {"overrides", sc.overrides},
                         {"precedence", "default < driver.profile, costs.preset < scenario file < sweep axis < --set"},
                         // Which costs were fitted to published figures, which are estimates: the
                         // figures that depend on them are predictions from these.
                         {"costs", CostModel::origins(sc.config, sc.cost_preset)}};
  if (!sc.cost_preset.empty())
    s["provenance"]["cost_preset"] = Json{{"name", sc.cost_preset.name}, {"file", sc.cost_preset.file}};
  // virtio.features_remove/_add are applied to the list and are not in the
  // configuration (which holds the list they made): say what they were, and
  // the list they edited.
  if (!sc.features_edit.empty())
    s["provenance"]["features_edit"] =
        Json{{"base", sc.features_edit.base}, {"remove", sc.features_edit.remove}, {"add", sc.features_edit.add}};
  const double measured_s = s["throughput"]["measured_s"].get<double>();
  s["traffic"] = w_.inputs[0].source->summary(measured_s);
  s["traffic"]["gro"] = w_.inputs[0].arrivals->summary();
  if (w_.inputs.size() > 1) {  // the first source's figures above; every source's here
    for (size_t i = 0; i < w_.inputs.size(); ++i) {
      Json t = w_.inputs[i].source->summary(measured_s);
      t["gro"] = w_.inputs[i].arrivals->summary();
      s["traffic"]["sources"][w_.topology().sources[i].name] = std::move(t);
    }
  }
  s["config"] = sc.config.json();
}

void Books::write_trace() const {
  if (w_.event_log) write_file_atomic(w_.options.trace_path, w_.event_log->text());
}

}  // namespace vringsim

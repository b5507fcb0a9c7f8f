#include "sim/core/faults.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "sim/core/errors.hpp"
#include "sim/core/packed_ring.hpp"
#include "sim/core/rng.hpp"

namespace vringsim {

namespace {

struct KindText {
  const char* name;
  const char* what;
  const char* source;
};
constexpr std::array<KindText, kFaultKinds> kKinds{{
    {"alloc_failure", "guest memory pressure: every receive-buffer allocation fails (pages and skbs)",
     "GFP_ATOMIC failures under memory pressure; 2.6.27 virtnet_poll schedules refill_work on failure"},
    {"backend_pause", "the host backend thread is descheduled and serves nothing",
     "a vhost or QEMU I/O thread preempted on a busy host"},
    {"vcpu_stall", "the guest vCPU is descheduled: no NAPI poll and no refill until it runs again",
     "steal time on an overcommitted host"},
    {"tap_overflow", "the tap queue holds at most faults.tap_overflow.capacity_packets frames",
     "other traffic filling the tap's queue (TUN_READQ_SIZE shared)"},
}};

/// The faults `faults.bad_chain.kinds` names ("all" or a comma list), or the
/// first name that is not a fault a guest can post.
std::vector<ChainFault> parse_fault_kinds(const std::string& s, std::string* bad) {
  if (s == "all")
    return {ChainFault::Loop,     ChainFault::NextOutOfRange, ChainFault::ZeroLength,
            ChainFault::ReadOnly, ChainFault::HeadInFlight,   ChainFault::HeadOutOfRange};
  std::vector<ChainFault> out;
  for (size_t pos = 0; pos <= s.size();) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    const std::string name = s.substr(pos, comma - pos);
    const auto k = chain_fault_from_name(name);
    if (!k || *k == ChainFault::TooLong) {  // too_long is the device's limit, not something a guest posts
      *bad = name;
      return {};
    }
    out.push_back(*k);
    pos = comma + 1;
  }
  return out;
}

std::string kinds_check(const Json& v) {
  std::string bad;
  const auto kinds = parse_fault_kinds(v.get<std::string>(), &bad);
  if (!kinds.empty()) return "";
  return fmt::format("\"{}\" is not a fault a guest can post (loop, next_out_of_range, zero_length, read_only, "
                     "head_in_flight, head_out_of_range, bad_indirect; or all)",
                     bad);
}

}  // namespace

const char* fault_kind_name(FaultKind k) { return kKinds[static_cast<int>(k)].name; }

namespace {

/// One kind's windows (faults.<kind>.*).
struct WindowSettings {
  double rate_per_s = 0, duration_s = 0.001, start_s = 0;
  std::vector<double> at_s;
};

const Bindings<WindowSettings>& window_bindings(int kind) {
  using S = WindowSettings;
  static const std::array<Bindings<S>, kFaultKinds> b = [] {
    std::array<Bindings<S>, kFaultKinds> out;
    for (int k = 0; k < kFaultKinds; ++k)
      out[static_cast<size_t>(k)] =
          Bindings<S>{}
              .bind(&S::rate_per_s, ParamSpec::number("rate_per_s", 0.0, "1/s")
                                        .range(0, 1e6)
                                        .help(std::string(kKinds[k].what) +
                                              ": windows start at this mean rate (Poisson; 0: none)")
                                        .from(kKinds[k].source))
              .bind(&S::duration_s,
                    ParamSpec::number("duration_s", 0.001, "s").range(1e-9, 1e6).help("length of each window").from("1 ms"))
              .bind(&S::start_s, ParamSpec::number("start_s", 0.0, "s")
                                     .range(0, 1e6)
                                     .help("no Poisson window starts before this time")
                                     .from("0"))
              .bind(&S::at_s,
                    ParamSpec::number_list("at_s", {}, "s")
                        .range(0, 1e6)
                        .help("windows that start at these times as well")
                        .from("none"));
    return out;
  }();
  return b[static_cast<size_t>(kind)];
}

std::string kind_prefix(int k) { return std::string("faults.") + kKinds[k].name + "."; }

}  // namespace

const Bindings<FaultSettings>& FaultSettings::bindings() {
  using S = FaultSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::tap_overflow_capacity, ParamSpec::integer("faults.tap_overflow.capacity_packets", 0, "packets")
                                               .range(0, 100000000)
                                               .help("tap queue capacity while a tap_overflow window is open")
                                               .from("0: nothing more fits"))
          .bind(&S::bad_chain_rate, ParamSpec::number("faults.bad_chain.rate", 0.0, "probability")
                                        .range(0, 1)
                                        .help("probability that the guest makes a chain it posts faulty (a buggy or "
                                              "malicious driver)")
                                        .from("0: a correct driver"))
          .bind(&S::bad_chain_kinds,
                ParamSpec::string("faults.bad_chain.kinds", "all")
                    .help("comma-separated faults drawn uniformly: loop, next_out_of_range, zero_length, read_only, "
                          "head_in_flight (the head added twice), head_out_of_range, bad_indirect (a table length "
                          "that is not a multiple of 16); or all (every one but bad_indirect, as before it existed)")
                    .from("all")
                    .must(kinds_check));
  return b;
}

void FaultPlan::declare(ParamTable& t) {
  for (int k = 0; k < kFaultKinds; ++k) window_bindings(k).declare(t, kind_prefix(k));
  FaultSettings::bindings().declare(t);
}

FaultPlan::FaultPlan(const Config& cfg, uint64_t seed, double stop_time, bool packed_ring) {
  for (int k = 0; k < kFaultKinds; ++k) {
    const WindowSettings ws = window_bindings(k).load(cfg, kind_prefix(k));
    std::vector<FaultWindow> w;
    for (double at : ws.at_s)
      if (at >= 0 && at < stop_time) w.push_back({at, at + ws.duration_s});
    if (ws.rate_per_s > 0) {
      Rng rng(seed, std::string("faults.") + kKinds[k].name);
      double t = ws.start_s;
      while (true) {
        t += rng.exponential(1.0 / ws.rate_per_s);
        if (t >= stop_time) break;
        w.push_back({t, t + ws.duration_s});
        t += ws.duration_s;  // the next window starts after this one has ended
      }
    }
    std::sort(w.begin(), w.end(), [](const FaultWindow& a, const FaultWindow& b) { return a.start < b.start; });
    // Overlapping windows (at_s with Poisson ones) merge into one.
    std::vector<FaultWindow> merged;
    for (const FaultWindow& x : w) {
      if (!merged.empty() && x.start <= merged.back().end)
        merged.back().end = std::max(merged.back().end, x.end);
      else
        merged.push_back(x);
    }
    windows_[k] = std::move(merged);
  }
  const FaultSettings fs = FaultSettings::bindings().load(cfg);
  tap_overflow_capacity_ = fs.tap_overflow_capacity;
  bad_chain_rate_ = fs.bad_chain_rate;
  std::string bad;
  bad_chain_kinds_ = parse_fault_kinds(fs.bad_chain_kinds, &bad);
  if (packed_ring && fs.bad_chain_kinds == "all")
    std::erase_if(bad_chain_kinds_, [](ChainFault f) { return !packed_fault_injectable(f); });
  ensure(!bad_chain_kinds_.empty(), "faults.bad_chain.kinds passed validation but names no fault");
}

std::optional<double> FaultPlan::active_in(const std::vector<FaultWindow>& w, double t) {
  // The last window starting at or before t.
  auto it = std::upper_bound(w.begin(), w.end(), t, [](double x, const FaultWindow& f) { return x < f.start; });
  if (it == w.begin()) return std::nullopt;
  --it;
  if (t < it->end) return it->end;
  return std::nullopt;
}

}  // namespace vringsim

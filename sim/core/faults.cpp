#include "sim/core/faults.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "sim/core/errors.hpp"
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
                     "head_in_flight, head_out_of_range; or all)",
                     bad);
}

}  // namespace

const char* fault_kind_name(FaultKind k) { return kKinds[static_cast<int>(k)].name; }

void FaultPlan::declare(ParamTable& t) {
  for (const KindText& k : kKinds) {
    const std::string p = std::string("faults.") + k.name + ".";
    t.add(ParamSpec::number(p + "rate_per_s", 0.0, "1/s")
              .range(0, 1e6)
              .help(std::string(k.what) + ": windows start at this mean rate (Poisson; 0: none)")
              .from(k.source));
    t.add(ParamSpec::number(p + "duration_s", 0.001, "s").range(1e-9, 1e6).help("length of each window").from("1 ms"));
    t.add(ParamSpec::number(p + "start_s", 0.0, "s")
              .range(0, 1e6)
              .help("no Poisson window starts before this time")
              .from("0"));
    t.add(ParamSpec::number_list(p + "at_s", {}, "s").help("windows that start at these times as well").from("none"));
  }
  t.add(ParamSpec::integer("faults.tap_overflow.capacity_packets", 0, "packets")
            .range(0, 100000000)
            .help("tap queue capacity while a tap_overflow window is open")
            .from("0: nothing more fits"));
  t.add(ParamSpec::number("faults.bad_chain.rate", 0.0, "probability")
            .range(0, 1)
            .help("probability that the guest makes a chain it posts faulty (a buggy or malicious driver)")
            .from("0: a correct driver"));
  t.add(ParamSpec::string("faults.bad_chain.kinds", "all")
            .help("comma-separated faults drawn uniformly: loop, next_out_of_range, zero_length, read_only, "
                  "head_in_flight (the head added twice), head_out_of_range; or all")
            .from("all")
            .must(kinds_check));
}

FaultPlan::FaultPlan(const Config& cfg, uint64_t seed, double stop_time) {
  for (int k = 0; k < kFaultKinds; ++k) {
    const std::string p = std::string("faults.") + kKinds[k].name + ".";
    const double rate = cfg.number(p + "rate_per_s");
    const double dur = cfg.number(p + "duration_s");
    std::vector<FaultWindow> w;
    for (double at : cfg.numbers(p + "at_s"))
      if (at >= 0 && at < stop_time) w.push_back({at, at + dur});
    if (rate > 0) {
      Rng rng(seed, std::string("faults.") + kKinds[k].name);
      double t = cfg.number(p + "start_s");
      while (true) {
        t += rng.exponential(1.0 / rate);
        if (t >= stop_time) break;
        w.push_back({t, t + dur});
        t += dur;  // the next window starts after this one has ended
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
  tap_overflow_capacity_ = static_cast<uint32_t>(cfg.integer("faults.tap_overflow.capacity_packets"));
  bad_chain_rate_ = cfg.number("faults.bad_chain.rate");
  std::string bad;
  bad_chain_kinds_ = parse_fault_kinds(cfg.string("faults.bad_chain.kinds"), &bad);
  ensure(!bad_chain_kinds_.empty(), "faults.bad_chain.kinds passed validation but names no fault");
}

std::optional<double> FaultPlan::active(FaultKind k, double t) const {
  const auto& w = windows(k);
  if (w.empty()) return std::nullopt;
  // The last window starting at or before t.
  auto it = std::upper_bound(w.begin(), w.end(), t, [](double x, const FaultWindow& f) { return x < f.start; });
  if (it == w.begin()) return std::nullopt;
  --it;
  if (t < it->end) return it->end;
  return std::nullopt;
}

}  // namespace vringsim

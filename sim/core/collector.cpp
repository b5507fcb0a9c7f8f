#include "sim/core/collector.hpp"

#include <algorithm>
#include <cmath>

namespace vringsim {

size_t LatencyHistogram::index(uint64_t ns) {
  if (ns < (uint64_t{2} << kSubBits)) return ns;
  const int e = 63 - __builtin_clzll(ns) - kSubBits;  // >= 1
  const uint64_t mantissa = ns >> e;                  // in [1024, 2047]
  return (size_t{2} << kSubBits) + static_cast<size_t>(e - 1) * (size_t{1} << kSubBits) +
         static_cast<size_t>(mantissa - (uint64_t{1} << kSubBits));
}

double LatencyHistogram::midpoint_ns(size_t i) {
  if (i < (size_t{2} << kSubBits)) return static_cast<double>(i);
  const size_t j = i - (size_t{2} << kSubBits);
  const int e = static_cast<int>(j >> kSubBits) + 1;
  const uint64_t mantissa = (uint64_t{1} << kSubBits) + (j & ((size_t{1} << kSubBits) - 1));
  const double lo = static_cast<double>(mantissa << e);
  return lo + (static_cast<double>(uint64_t{1} << e) - 1) / 2;
}

void LatencyHistogram::add(double seconds) {
  const double ns = std::max(0.0, std::round(seconds * 1e9));
  const size_t i = index(static_cast<uint64_t>(ns));
  if (i >= buckets_.size()) buckets_.resize(i + 1, 0);
  ++buckets_[i];
  ++count_;
  sum_ns_ += ns;
  max_ns_ = std::max(max_ns_, ns);
}

double LatencyHistogram::percentile_us(double p) const {
  if (count_ == 0) return 0.0;
  const double r = std::ceil(p / 100.0 * static_cast<double>(count_));
  const uint64_t rank = r < 1 ? 1 : static_cast<uint64_t>(r);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(midpoint_ns(i), max_ns_) / 1e3;
  }
  return max_ns_ / 1e3;
}

double Collector::clipped_span(double a, double b, double lo, double hi) {
  const double s = std::max(a, lo), e = std::min(b, hi);
  return e > s ? e - s : 0.0;
}

void Collector::integrate_to(double t) {
  const double a = clip(level_time_), b = clip(t);
  if (b > a) {
    posted_integral_ += static_cast<double>(posted_bytes_) * (b - a);
    if (avail_chains_ == 0) empty_time_ += b - a;
  }
  if (t > level_time_) level_time_ = t;
}

uint64_t Collector::dropped_packets() const { return dropped().packets; }

Collector::Tally Collector::dropped() const {
  Tally t;
  for (const auto& d : drops_) {
    t.packets += d.packets;
    t.bytes += d.bytes;
  }
  return t;
}

void Collector::on_event(const Event& e) {
  switch (e.kind) {
    case EventKind::Arrived:
      ++arrived_.packets;
      arrived_.bytes += e.len;
      if (measured(e.time)) {
        ++m_arrived_.packets;
        m_arrived_.bytes += e.len;
      }
      ++tap_level_;  // a drop at the tap undoes this at the same instant
      break;
    case EventKind::Dropped: {
      auto& d = drops_[e.reason];
      ++d.packets;
      d.bytes += e.len;
      --tap_level_;
      break;
    }
    case EventKind::Posted:
      integrate_to(e.time);
      posted_bytes_ += e.bytes;
      posted_peak_ = std::max(posted_peak_, posted_bytes_);
      avail_chains_ += e.count;
      break;
    case EventKind::Taken:
      integrate_to(e.time);
      avail_chains_ -= e.count;
      --tap_level_;
      break;
    case EventKind::Used:
      integrate_to(e.time);
      posted_bytes_ -= e.bytes;
      if (measured(e.time)) {
        m_bytes_written_ += e.len;
        m_buffer_bytes_used_ += e.bytes;
      }
      break;
    case EventKind::Delivered:
      ++delivered_.packets;
      delivered_.bytes += e.len;
      if (measured(e.time)) {
        ++m_delivered_.packets;
        m_delivered_.bytes += e.len;
        latency_.add(e.time - e.arrival_s);
        ++buffers_per_packet_[e.count];
      }
      break;
    case EventKind::Kick:
      if (measured(e.time)) ++(e.reason ? kicks_ : kicks_suppressed_);
      break;
    case EventKind::Interrupt:
      if (measured(e.time)) ++interrupts_;
      break;
    case EventKind::StallBegin:
      if (measured(e.time)) ++stalls_;
      stall_begin_ = e.time;
      break;
    case EventKind::StallEnd:
      if (stall_begin_ >= 0) stall_time_ += clipped_span(stall_begin_, e.time, warmup_, e.time);
      stall_begin_ = -1;
      break;
    case EventKind::HostBusy: host_busy_.add(e.time, e.until, warmup_); break;
    case EventKind::GuestBusy: guest_busy_.add(e.time, e.until, warmup_); break;
    case EventKind::RefillFailed:
      if (measured(e.time)) ++refill_failures_;
      break;
    case EventKind::BadChain:  // counted by kind by the device (host.bad_chains)
      integrate_to(e.time);
      avail_chains_ -= e.count;
      posted_bytes_ -= e.bytes;
      break;
    case EventKind::DeviceBroken:  // host.broken, host.broken_at_s
    case EventKind::RxError:       // guest.rx_length_errors
      break;
  }
}

void Collector::finish(double end) {
  integrate_to(end);
  end_ = end;
  if (stall_begin_ >= 0) {  // still stalled at the end
    stall_time_ += clipped_span(stall_begin_, end, warmup_, end);
    stall_begin_ = -1;
  }
}

Json Collector::summary(double end) const {
  // Busy spans may run past the end (a burst in progress): clip them by
  // capping utilisation at the window, which the spans' sum cannot exceed by
  // more than the one span in progress.
  const double window = std::max(0.0, end - warmup_);
  auto per_s = [&](double x) { return window > 0 ? x / window : 0.0; };
  auto frac = [&](double x) { return window > 0 ? std::min(1.0, x / window) : 0.0; };
  Json j;
  j["memory"]["posted_bytes_peak"] = posted_peak_;
  j["memory"]["posted_bytes_mean"] = window > 0 ? posted_integral_ / window : 0.0;
  j["memory"]["fill_ratio"] =
      m_buffer_bytes_used_ ? static_cast<double>(m_bytes_written_) / static_cast<double>(m_buffer_bytes_used_) : 0.0;
  j["ring"]["empty_fraction"] = frac(empty_time_);
  j["throughput"]["delivered_gbps"] = per_s(8.0 * static_cast<double>(m_delivered_.bytes)) / 1e9;
  j["throughput"]["delivered_pps"] = per_s(static_cast<double>(m_delivered_.packets));
  j["throughput"]["offered_gbps"] = per_s(8.0 * static_cast<double>(m_arrived_.bytes)) / 1e9;
  j["throughput"]["offered_pps"] = per_s(static_cast<double>(m_arrived_.packets));
  j["throughput"]["measured_s"] = window;
  j["latency_us"]["p50"] = latency_.percentile_us(50);
  j["latency_us"]["p99"] = latency_.percentile_us(99);
  j["latency_us"]["max"] = latency_.max_us();
  j["latency_us"]["mean"] = latency_.mean_us();
  j["buffers_per_packet"] = Json::object();
  for (const auto& [n, c] : buffers_per_packet_) j["buffers_per_packet"][std::to_string(n)] = c;
  j["cpu"]["host_utilization"] = frac(host_busy_.busy);
  j["cpu"]["guest_utilization"] = frac(guest_busy_.busy);
  j["notifications"]["kicks"] = kicks_;
  j["notifications"]["kicks_suppressed"] = kicks_suppressed_;
  j["notifications"]["interrupts"] = interrupts_;
  j["host"]["stalls"] = stalls_;
  j["host"]["stall_time_s"] = stall_time_;
  j["guest"]["refill_failures"] = refill_failures_;
  for (int r = 0; r < kDropReasons; ++r) j["drops"][drop_reason_name(static_cast<DropReason>(r))] = drops_[r].packets;
  return j;
}

}  // namespace vringsim

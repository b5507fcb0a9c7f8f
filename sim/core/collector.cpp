#include "sim/core/collector.hpp"

#include <algorithm>
#include <cmath>

namespace vringsim {

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p% of the sample at or below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(v.size()));
  const size_t idx = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return v[std::min(idx, v.size() - 1)];
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
        latencies_us_.push_back((e.time - e.arrival_s) * 1e6);
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
    case EventKind::HostBusy:
      host_busy_ += clipped_span(std::max(e.time, host_covered_), e.until, warmup_, 1e300);
      host_covered_ = std::max(host_covered_, e.until);
      break;
    case EventKind::GuestBusy:
      guest_busy_ += clipped_span(std::max(e.time, guest_covered_), e.until, warmup_, 1e300);
      guest_covered_ = std::max(guest_covered_, e.until);
      break;
    case EventKind::RefillFailed:
      if (measured(e.time)) ++refill_failures_;
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
  std::vector<double> lat = latencies_us_;
  j["latency_us"]["p50"] = percentile(lat, 50);
  j["latency_us"]["p99"] = percentile(lat, 99);
  j["latency_us"]["max"] = lat.empty() ? 0.0 : lat.back();
  j["latency_us"]["mean"] = lat.empty() ? 0.0 : [&] {
    double s = 0;
    for (double x : lat) s += x;
    return s / static_cast<double>(lat.size());
  }();
  j["buffers_per_packet"] = Json::object();
  for (const auto& [n, c] : buffers_per_packet_) j["buffers_per_packet"][std::to_string(n)] = c;
  j["cpu"]["host_utilization"] = frac(host_busy_);
  j["cpu"]["guest_utilization"] = frac(guest_busy_);
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

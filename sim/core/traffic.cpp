#include "sim/core/traffic.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/core/errors.hpp"

namespace vringsim {

std::filesystem::path TrafficContext::path(const std::string& key, const std::string& file) const {
  const std::filesystem::path given(file);
  const std::filesystem::path p = given.is_absolute() ? given : base_dir / given;
  // A missing data file is a mistake in the scenario: name the key.
  if (const std::string problem = not_a_regular_file(p); !problem.empty())
    throw InputError(fmt::format("{}: {} {}", key_to_pointer(key), brief(p.string(), 200), problem));
  return p;
}

std::string segment_header_problem(uint32_t header, uint32_t mtu, const std::string& what) {
  const uint32_t frame = mtu_frame_bytes(mtu);
  const uint32_t payload = frame > header ? frame - header : 0;
  if (payload >= kMinSegmentPayloadBytes) return "";
  const std::string left = payload == 0   ? "no payload"
                           : payload == 1 ? "1 byte of payload"
                                          : fmt::format("{} bytes of payload", payload);
  return fmt::format(
      "leaves {} in each {}-byte MTU segment the host cuts {} into for a guest without GSO (virtio.mtu {} + 14): "
      "the header must be at most {}, which leaves {} bytes, TCP's smallest segment payload (TCP_MIN_GSO_SIZE, "
      "include/net/tcp.h)",
      left, frame, what, mtu, frame > kMinSegmentPayloadBytes ? frame - kMinSegmentPayloadBytes : 0,
      kMinSegmentPayloadBytes);
}

std::string gro_packets_phrase(uint64_t max_bytes) {
  return fmt::format("the packets GRO merges (up to traffic.gro.max_bytes, {})", max_bytes);
}

const Bindings<WireSettings>& WireSettings::bindings() {
  using S = WireSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::link_gbps, ParamSpec::number("traffic.link_gbps", 10.0, "Gb/s")
                                   .range(0.001, 1000.0)
                                   .help("link rate: bounds back-to-back arrivals (frame + 24 bytes of Ethernet "
                                         "overhead)")
                                   .from("docs/model.md §2: the 2008 measurement used 10 Gb/s Ethernet"))
          .bind(&S::arrival,
                ParamSpec::string("traffic.arrival", "line-rate", {"line-rate", "constant", "poisson", "onoff", "trace"})
                    .help("arrival process: back-to-back at link rate, a constant rate, Poisson at a mean rate, "
                          "on/off bursts at link rate, or the trace's own timestamps (pcap, csv with time_s)")
                    .from("docs/model.md §2: the 2008 setup offers MTU frames at line rate"))
          .bind(&S::rate_gbps, ParamSpec::number("traffic.rate_gbps", 10.0, "Gb/s")
                                   .range(1e-6, 1000.0)
                                   .help("offered rate on the wire (Ethernet overhead included) for constant and "
                                         "poisson arrivals; capped by the link rate")
                                   .from("default: the 10 Gb/s line rate of the 2008 setup"))
          .bind(&S::speed, ParamSpec::number("traffic.speed", 1.0, "factor")
                               .range(1e-6, 1e6)
                               .help("with arrival = trace: replay time runs this many times faster than the "
                                     "trace's (2: twice as fast)")
                               .from("1: the trace's own timing"))
          .bind(&S::burst_frames, ParamSpec::integer("traffic.burst_frames", 32, "frames")
                                      .range(1, 1e12)
                                      .help("with arrival = onoff: frames per burst, sent back to back at link rate")
                                      .from("32: a typical NIC interrupt-coalescing batch"))
          .bind(&S::duty_cycle, ParamSpec::number("traffic.duty_cycle", 0.5, "fraction")
                                    .range(1e-6, 1)
                                    .help("with arrival = onoff: share of time spent in bursts (the mean rate is "
                                          "this times the link rate)")
                                    .from("half on, half off"));
  return b;
}

void ArrivalProcess::declare(ParamTable& t) { WireSettings::bindings().declare(t); }

ArrivalProcess::ArrivalProcess(const Config& cfg, uint64_t seed) : ArrivalProcess(WireSettings::bindings().load(cfg), seed) {}

ArrivalProcess::ArrivalProcess(const WireSettings& w, uint64_t seed)
    : link_bps_(w.link_gbps * 1e9), rate_bps_(w.rate_gbps * 1e9), rng_(seed, "arrivals") {
  const std::string& m = w.arrival;
  mode_ = m == "constant"  ? Mode::Constant
          : m == "poisson" ? Mode::Poisson
          : m == "trace"   ? Mode::Trace
          : m == "onoff"   ? Mode::OnOff
                           : Mode::LineRate;
  speed_ = w.speed;
  burst_frames_ = w.burst_frames;
  duty_cycle_ = w.duty_cycle;
}

double ArrivalProcess::next_arrival(const Frame& frame) {
  const double wire_bits = 8.0 * (frame.len_bytes + kWireOverheadBytes);
  const double serialise = wire_bits / link_bps_;
  double start = wire_free_;
  switch (mode_) {
    case Mode::LineRate: break;
    case Mode::Constant:
      start = std::max(start, intended_);
      intended_ += wire_bits / rate_bps_;
      break;
    case Mode::Poisson:
      intended_ += rng_.exponential(wire_bits / rate_bps_);
      start = std::max(start, intended_);
      break;
    case Mode::OnOff:
      if (in_burst_ == burst_frames_) {
        // The burst took (wire_free_ - burst_start_); stay off so that bursts
        // fill duty_cycle of the time.
        const double on = wire_free_ - burst_start_;
        start = wire_free_ + on * (1 - duty_cycle_) / duty_cycle_;
        in_burst_ = 0;
      }
      if (in_burst_++ == 0) burst_start_ = start;
      break;
    case Mode::Trace:
      // Frames without a timestamp (never from a validated scenario) go back to back.
      if (frame.time_s) start = std::max(start, *frame.time_s / speed_);
      break;
  }
  wire_free_ = start + serialise;
  return wire_free_;
}

const Bindings<GroSettings>& GroSettings::bindings() {
  using S = GroSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::enabled, ParamSpec::boolean("traffic.gro.enabled", false)
                                 .help("merge consecutive frames of one flow into super-packets before the tap "
                                       "queue, as host GRO or a TSO sender does")
                                 .from("off: the 2008 setup delivered MTU frames"))
          .bind(&S::max_bytes, ParamSpec::integer("traffic.gro.max_bytes", 65535 + 14, "bytes")
                                   .range(64, kMaxTraceFrameBytes)
                                   .help("largest super-packet (Ethernet frame without FCS)")
                                   .from("GRO's 64 KiB limit: 65535 bytes of IP datagram + the 14-byte Ethernet "
                                         "header"))
          .bind(&S::flush_gap_s, ParamSpec::number("traffic.gro.flush_gap_s", 20e-6, "s")
                                     .range(0, 1)
                                     .help("frames arriving further apart than this are not merged (GRO flushes at "
                                           "the end of a NIC poll)")
                                     .from("[estimate] one NIC interrupt-coalescing interval, tens of microseconds"));
  return b;
}

void Aggregator::declare(ParamTable& t) { GroSettings::bindings().declare(t); }

Aggregator::Aggregator(const Config& cfg, TrafficSource& source, ArrivalProcess& wire)
    : source_(source), wire_(wire) {
  const GroSettings g = GroSettings::bindings().load(cfg);
  enabled_ = g.enabled;
  max_bytes_ = g.max_bytes;
  flush_gap_s_ = g.flush_gap_s;
}

std::optional<Aggregator::Pending> Aggregator::pull() {
  if (lookahead_) {
    auto p = lookahead_;
    lookahead_.reset();
    return p;
  }
  auto f = source_.next();
  if (!f) return std::nullopt;
  ++frames_in_;
  return Pending{*f, wire_.next_arrival(*f)};
}

std::optional<Arrival> Aggregator::next() {
  // Counted as they are handed out: packets_out stays what the host admitted
  // so far (give or take the frame being merged).
  if (!segments_.empty()) {
    const Arrival s = segments_.front();
    segments_.pop_front();
    ++packets_out_;
    ++segments_out_;
    return s;
  }
  uint32_t header = 0;
  auto a = merged(&header);
  if (!a || segment_mtu_ == 0 || header == 0) return a;
  const uint32_t max_frame = mtu_frame_bytes(segment_mtu_);
  if (a->len_bytes <= max_frame) return a;
  // Every source refuses a header that leaves less than TCP's smallest
  // segment payload before a run (segment_header_problem): one here would
  // be cut into one-byte or empty segments, thousands a packet.
  ensure(header + kMinSegmentPayloadBytes <= max_frame, [&] {
    return fmt::format(
        "host segmentation: a {}-byte packet's {}-byte header leaves less than {} bytes of payload in a "
        "{}-byte MTU segment (its source should have refused it)",
        a->len_bytes, header, kMinSegmentPayloadBytes, max_frame);
  });
  // skb_gso_segment(): each segment is the header plus up to mss bytes.
  const uint32_t mss = max_frame - header;
  const uint64_t payload = a->len_bytes - header;
  uint64_t left = payload;
  ++segmented_packets_;
  while (left > 0) {
    const uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(left, mss));
    segments_.push_back(Arrival{header + take, a->time_s, a->flow, true});
    left -= take;
  }
  // Each segment carries payload (take > 0 above), so there are never more
  // segments than payload bytes; as many as the payload needs at mss each.
  ensure(!segments_.empty() && segments_.size() <= payload && segments_.size() == (payload + mss - 1) / mss, [&] {
    return fmt::format("host segmentation: {} segments for {} payload bytes at {} a segment", segments_.size(), payload,
                       mss);
  });
  headers_added_bytes_ += uint64_t{header} * (segments_.size() - 1);
  const Arrival s = segments_.front();  // stands for the packet merged() counted
  segments_.pop_front();
  ++segments_out_;
  return s;
}

std::optional<Arrival> Aggregator::skip(double until, double below, uint64_t most, SkippedFrames& skipped) {
  auto past = [&](double t) { return t > until || t >= below; };
  if (enabled_ || segment_mtu_ != 0) {
    // Merging and cutting as next() does: only the frames are not built downstream.
    for (uint64_t n = 0; n < most; ++n) {
      auto a = next();
      if (!a || past(a->time_s)) return a;
      skipped.add(a->len_bytes, a->time_s);
    }
    return std::nullopt;
  }
  // Neither: next() is pull() and a count (merged()), frame by frame.
  for (uint64_t n = 0; n < most; ++n) {
    auto f = source_.next();
    if (!f) return std::nullopt;
    ++frames_in_;
    ++packets_out_;
    const double t = wire_.next_arrival(*f);
    if (past(t)) return Arrival{f->len_bytes, t, f->flow};
    skipped.add(f->len_bytes, t);
  }
  return std::nullopt;
}

std::optional<Arrival> Aggregator::merged(uint32_t* header_bytes) {
  auto first = pull();
  if (!first) return std::nullopt;
  ++packets_out_;
  Arrival a{first->frame.len_bytes, first->time_s, first->frame.flow};
  *header_bytes = first->frame.header_bytes;
  if (!enabled_ || first->frame.flow == 0 || first->frame.header_bytes == 0) return a;
  bool merged = false;
  while (auto more = pull()) {
    const Frame& f = more->frame;
    const uint64_t payload = f.len_bytes > f.header_bytes ? f.len_bytes - f.header_bytes : 0;
    if (f.flow != first->frame.flow || f.header_bytes == 0 || payload == 0 || a.len_bytes + payload > max_bytes_ ||
        more->time_s - a.time_s > flush_gap_s_) {
      lookahead_ = more;
      break;
    }
    a.len_bytes += static_cast<uint32_t>(payload);
    a.time_s = more->time_s;
    headers_removed_bytes_ += f.header_bytes;
    merged = true;
  }
  if (merged) ++merged_packets_;
  return a;
}

Json Aggregator::summary() const {
  Json j{{"frames_in", frames_in_},
         {"packets_out", packets_out_},
         {"super_packets", merged_packets_},
         {"headers_removed_bytes", headers_removed_bytes_}};
  if (segment_mtu_ != 0) {  // only when the guest takes no GSO packets
    j["host_segmented_packets"] = segmented_packets_;
    j["host_segments"] = segments_out_;
    j["host_segment_headers_added_bytes"] = headers_added_bytes_;
  }
  return j;
}

}  // namespace vringsim

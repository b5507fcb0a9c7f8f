// tcp: a closed-loop, TCP-like bulk sender, as netperf TCP_STREAM from an
// external machine: MSS-sized frames, a congestion window with slow start
// and AIMD (Reno: halve on loss, at most once per smoothed RTT), ACK
// clocking from delivery to the guest stack, and a receive-window cap. A
// dropped frame is detected one base RTT after the drop (duplicate ACKs)
// and sent again. Throughput then falls when the ring drops, as on real
// systems.
//
// Timing: a frame sent at time s reaches the host at s + rtt/2 (then the
// wire serialises it); an ACK for a frame delivered at time t reaches the
// sender at t + rtt/2. The sender only decides a send once every fate that
// could change it is known (the host asks again later otherwise).
#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <limits>
#include <optional>
#include <queue>

#include "sim/core/errors.hpp"
#include "sim/core/bindings.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/settings.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {
namespace {

struct TcpSettings {
  uint32_t len_bytes = 1514, header_bytes = 66;
  double rtt_s = 100e-6;
  double init_cwnd_segments = 3, max_window_segments = 2896;
};

const Bindings<TcpSettings>& tcp_bindings() {
  using S = TcpSettings;
  static const Bindings<S> b =
      Bindings<S>{}
          .bind(&S::len_bytes, ParamSpec::integer("len_bytes", 1514, "bytes")
                                   .range(64, 65549)
                                   .help("frame length of a full segment (for a guest without GSO at most the "
                                         "MTU frame, virtio.mtu + 14: the host would cut longer frames)")
                                   .from("1514: an MSS of 1460 (1448 with timestamps) in an MTU frame"))
          .bind(&S::header_bytes, ParamSpec::integer("header_bytes", 66, "bytes")
                                      .range(0, 65535)
                                      .help("Ethernet + IP + TCP header bytes per frame (the rest is goodput)")
                                      .from("14 + 20 + 32: Ethernet, IPv4, TCP with timestamps (Linux's default)"))
          .bind(&S::rtt_s, ParamSpec::number("rtt_s", 100e-6, "s")
                               .range(1e-7, 10)
                               .help("base round-trip time outside the simulated receive path (wire, switch, "
                                     "sender's stack)")
                               .from("[estimate] a 10 GbE LAN round trip with 2008 host stacks, ~100 us"))
          .bind(&S::init_cwnd_segments, ParamSpec::integer("init_cwnd_segments", 3, "segments")
                                            .range(1, 1e6)
                                            .help("initial congestion window")
                                            .from("3: RFC 3390, Linux's initial window in 2008"))
          .bind(&S::max_window_segments,
                ParamSpec::integer("max_window_segments", 2896, "segments")
                    .range(1, 1e7)
                    .help("largest window the receiver allows (receive buffer / MSS)")
                    .from("tcp_rmem max 4194304 bytes (Linux 2.6.27 default) / 1448-byte MSS"));
  return b;
}

class TcpSender : public TrafficSource, public ClosedLoop {
 public:
  explicit TcpSender(const TrafficContext& ctx) : TcpSender(ctx, tcp_bindings().load(ctx.cfg, ctx.prefix)) {}
  TcpSender(const TrafficContext& ctx, const TcpSettings& st)
      : len_(st.len_bytes),
        header_(st.header_bytes),
        rtt_(st.rtt_s),
        half_(rtt_ / 2),
        max_window_(st.max_window_segments),
        cwnd_(st.init_cwnd_segments),
        ssthresh_(max_window_),
        warmup_(RunSettings::bindings().load(ctx.cfg).warmup_s),
        srtt_(rtt_) {
    if (WireSettings::bindings().load(ctx.cfg).arrival != "trace")
      throw InputError("/traffic/arrival: the tcp sender times its own sends: set it to \"trace\"");
    if (GroSettings::bindings().load(ctx.cfg).enabled)
      throw InputError("/traffic/gro/enabled: GRO merging of a closed-loop sender's frames is not supported");
    if (header_ >= len_)
      throw InputError(fmt::format("{}header_bytes: {} leaves no payload in {}-byte frames", key_to_pointer(ctx.prefix),
                                   header_, len_));
    // The host would cut longer frames into MTU segments for a guest
    // without GSO, each with its own fate, while the ACK clock counts the
    // frames it sent (issue 35: 9000-byte frames gave 12.3 Gb/s of goodput
    // on a 10 Gb/s link). A sender with a smaller MSS sends smaller frames.
    if (const uint32_t frame = mtu_frame_bytes(ctx.segment_mtu); ctx.segment_mtu != 0 && len_ > frame)
      throw InputError(
          fmt::format("{}len_bytes: {} is longer than the {}-byte MTU frame of a guest without GSO "
                      "(virtio.mtu {} + 14): the host would cut each frame into segments, and this "
                      "sender's ACK clock counts the frames it sent; use at most {}, or a guest with "
                      "GUEST_TSO4/GUEST_TSO6",
                      key_to_pointer(ctx.prefix), len_, frame, ctx.segment_mtu, frame));
  }

  ClosedLoop* closed_loop() override { return this; }

  void on_fate(uint64_t seq, double t, bool delivered) override {
    // ACKs reach the sender half a base RTT after delivery; a loss is
    // noticed (duplicate ACKs) a base RTT after the drop.
    events_.push({delivered ? t + half_ : t + rtt_, seq, delivered});
    if (delivered && t >= warmup_) payload_measured_ += len_ - header_;
  }

  void feedback_complete_until(double t) override { known_ = t + half_; }


  std::optional<Frame> next() override {
    pending_ = false;
    while (true) {
      // Everything that happened before the next send, in time order.
      while (!events_.empty() && events_.top().time <= cursor_) {
        const Fb e = events_.top();
        events_.pop();
        apply(e);
      }
      // Feedback after `known_` may still come: decide nothing beyond it.
      if (cursor_ > known_) return wait();
      if (static_cast<double>(inflight_) < std::min(std::floor(cwnd_), max_window_)) {
        if (send_time_.size() <= next_seq_ - first_unacked_seq_) send_time_.resize(next_seq_ - first_unacked_seq_ + 1);
        send_time_[next_seq_ - first_unacked_seq_] = cursor_;
        ++next_seq_;
        ++inflight_;
        ++sent_;
        if (to_resend_) {
          --to_resend_;
          ++retransmissions_;
        }
        return Frame{len_, cursor_ + half_, 1, header_};
      }
      // Window closed: the next ACK or loss opens or resizes it.
      if (events_.empty() || events_.top().time > known_) return wait();
      cursor_ = std::max(cursor_, events_.top().time);
    }
  }

  bool pending() const override { return pending_; }
  double quiet_until() const override { return known_ + half_; }

  Json summary(double measured_s) const override {
    return Json{
        {"goodput_gbps", measured_s > 0 ? 8.0 * static_cast<double>(payload_measured_) / measured_s / 1e9 : 0.0},
        {"segments_sent", sent_},
        {"retransmissions", retransmissions_},
        {"losses", losses_},
        {"window_reductions", reductions_},
        {"cwnd_segments", cwnd_},
        {"srtt_us", srtt_ * 1e6}};
  }

 private:
  struct Fb {
    double time;
    uint64_t seq;
    bool ack;
    bool operator>(const Fb& o) const { return time > o.time || (time == o.time && seq > o.seq); }
  };

  std::optional<Frame> wait() {
    pending_ = true;
    return std::nullopt;
  }

  void apply(const Fb& e) {
    --inflight_;
    if (e.ack) {
      // RTT sample for this segment (first transmission or not: Karn is moot
      // here, each frame is acknowledged once).
      const uint64_t idx = e.seq - first_unacked_seq_;
      if (idx < send_time_.size()) srtt_ += ((e.time - send_time_[idx]) - srtt_) / 8;
      cwnd_ = std::min(max_window_, cwnd_ < ssthresh_ ? cwnd_ + 1 : cwnd_ + 1 / cwnd_);
    } else {
      ++losses_;
      ++to_resend_;
      if (e.time - last_reduction_ >= srtt_) {  // one reduction per window of data
        ssthresh_ = std::max(cwnd_ / 2, 2.0);
        cwnd_ = ssthresh_;
        last_reduction_ = e.time;
        ++reductions_;
      }
    }
    // Forget send times nobody will ask for again (keeps memory flat).
    while (send_time_.size() > 4 * max_window_ + 1024) {
      send_time_.pop_front();
      ++first_unacked_seq_;
    }
  }

  uint32_t len_, header_;
  double rtt_, half_, max_window_, cwnd_, ssthresh_, warmup_, srtt_;
  double cursor_ = 0;  ///< time of the next send decision
  double known_ = 0;   ///< feedback events up to here are all known
  double last_reduction_ = -std::numeric_limits<double>::infinity();
  bool pending_ = false;
  uint64_t next_seq_ = 0, first_unacked_seq_ = 0, inflight_ = 0, to_resend_ = 0;
  uint64_t sent_ = 0, retransmissions_ = 0, losses_ = 0, reductions_ = 0, payload_measured_ = 0;
  std::deque<double> send_time_;
  std::priority_queue<Fb, std::vector<Fb>, std::greater<>> events_;
};

const Registrar<TrafficInfo> kRegisteredTcp{TrafficInfo{
    "tcp", "closed-loop TCP-like bulk sender (slow start, AIMD, ACK clocking from delivery): netperf TCP_STREAM",
    [](ParamTable& t, const std::string& p) { tcp_bindings().declare(t, p); },
    [](const TrafficContext& ctx) -> std::unique_ptr<TrafficSource> { return std::make_unique<TcpSender>(ctx); },
    nullptr, nullptr}};

}  // namespace
}  // namespace vringsim

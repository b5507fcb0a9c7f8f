// Traffic: a source plug-in yields frames (length, and optionally a trace
// timestamp); the core's wire model (ArrivalProcess) turns them into arrival
// times at the host: line rate, a constant rate, a Poisson process, or the
// trace's own timestamps (scaled), always bounded by the link rate. The core names no
// source kind: kinds register themselves (models/traffic/).
#pragma once

#include <cstdint>
#include <filesystem>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sim/core/bindings.hpp"
#include "sim/core/config.hpp"
#include "sim/core/params.hpp"
#include "sim/core/rng.hpp"

namespace vringsim {

/// Ethernet per-frame overhead on the wire: preamble and start delimiter 8,
/// FCS 4, inter-frame gap 12 (IEEE 802.3). Frame lengths exclude the FCS.
inline constexpr uint32_t kWireOverheadBytes = 24;

struct Frame {
  uint32_t len_bytes = 0;
  std::optional<double> time_s;  ///< the trace's own timestamp, if it has one
  uint32_t flow = 0;             ///< flow hash (the 5-tuple for captures); frames of one flow may be merged
  uint32_t header_bytes = 0;     ///< L2-L4 header bytes (0: unknown); what merging drops from later frames
};

/// Frames above this are bad input in a trace (a 64 KiB GSO frame is 65549).
inline constexpr uint32_t kMaxTraceFrameBytes = 256 * 1024;

/// Host-side segmentation for a guest without GSO (docs/model.md "Host-side
/// segmentation") cuts a packet longer than an MTU frame (the MTU plus the
/// 14-byte Ethernet header, ETH_HLEN) into segments of its header plus at
/// most `mtu_frame - header` payload bytes.
inline constexpr uint32_t mtu_frame_bytes(uint32_t mtu) { return mtu + 14; }
/// The fewest payload bytes a full segment carries: TCP's smallest
/// gso_size, TCP_MIN_GSO_SIZE = TCP_MIN_SND_MSS (48) - MAX_TCP_OPTION_SPACE
/// (40) (include/net/tcp.h, since 3b4929f65b0d "tcp: limit payload size of
/// sacked skbs"; __tcp_mtu_to_mss "reserve[s] room for full set of TCP
/// options and 8 bytes of data"). A header that leaves less made the host
/// cut a 9000-byte frame into 7,487 one-byte segments (issue 35).
inline constexpr uint32_t kMinSegmentPayloadBytes = 8;
/// Why the host cannot cut `what` (a phrase: "the 9000-byte frames") for a
/// guest without GSO whose MTU is `mtu`, when their header is `header`
/// bytes: "leaves N bytes of payload in each M-byte MTU segment the host
/// cuts WHAT into ...; at most ...". Empty when it can. Sources prefix
/// their pointer and value (or file and packet), and check before a run.
std::string segment_header_problem(uint32_t header, uint32_t mtu, const std::string& what);
/// What GRO hands on can be longer than the MTU frame: the phrase for the
/// packets it merges, for segment_header_problem().
std::string gro_packets_phrase(uint64_t max_bytes);

/// Where a replayed trace's frames fall on the run's clock, for the message
/// of a run that measured nothing (Books::run_summary).
struct TraceSpan {
  std::string file;
  std::string noun = "capture";  ///< "capture" or "CSV trace"
  std::string prefix;            ///< its keys: "traffic.pcap."
  uint64_t frames = 0;        ///< replayed in one pass
  double duration_s = 0;      ///< the latest timestamp less the earliest in one pass, in the trace's own time
  double first_s = 0;         ///< the first frame is due this long after the start (traffic.speed applied)
  double last_s = 0;          ///< and the last one of the last pass
  bool own_timing = false;    ///< traffic.arrival "trace": the timestamps set the arrivals
  bool timed = true;          ///< the trace has timestamps at all
  uint64_t loops = 1;
};

class TrafficSource {
 public:
  virtual ~TrafficSource() = default;
  /// The next frame, or nothing when the source is exhausted. Errors in the
  /// data (a damaged record) throw InputError naming the file and the packet
  /// index or line; validate() is meant to find them before any run.
  virtual std::optional<Frame> next() = 0;
  /// Figures about the source for summary.json's `traffic` section;
  /// `measured_s` is the length of the measured window.
  virtual Json summary(double /*measured_s*/) const { return Json::object(); }

  /// A source that paces itself on the fate of what it sent, or null.
  virtual class ClosedLoop* closed_loop() { return nullptr; }
  /// The one length every frame of this source has, if it has one (the
  /// analytic model needs equal frames); nothing otherwise.
  virtual std::optional<uint32_t> constant_length() const { return std::nullopt; }
  /// A source replaying a file: where its frames fall on the run's clock
  /// (reads the file again: called only to explain a run that measured nothing).
  virtual std::optional<TraceSpan> trace_span() const { return std::nullopt; }
};

/// A closed-loop source (a TCP-like sender): the run tells it the fate of
/// every frame, in time order, and it decides its next sends from them.
class ClosedLoop {
 public:
  virtual ~ClosedLoop() = default;
  /// The fate of frame `seq` (0-based, in the order next() gave them):
  /// delivered to the guest stack, or dropped, at `time_s`.
  virtual void on_fate(uint64_t seq, double time_s, bool delivered) = 0;
  /// Every fate up to `time_s` has been given: the source may decide sends
  /// that depend on them.
  virtual void feedback_complete_until(double time_s) = 0;
  /// After next() gave nothing: true if the source is only waiting for
  /// feedback (ask again later), false if it is exhausted.
  virtual bool pending() const = 0;
  /// With pending(): no frame will arrive at the host before this time.
  virtual double quiet_until() const = 0;
};

/// What a traffic plug-in gets to build a source.
struct TrafficContext {
  const Config& cfg;
  std::string prefix;  ///< "traffic.<kind>."
  uint64_t seed = 0;
  std::filesystem::path base_dir;  ///< relative file names resolve here (the scenario's directory)
  bool need_flows = false;         ///< frames are routed by flow (a topology): give each its flow hash
  /// The guest takes no GSO packets: the host cuts those longer than
  /// mtu_frame_bytes(segment_mtu) into segments by their header
  /// (Aggregator::segment_for). 0: the guest takes them whole. A source
  /// checks its lengths and headers against it (segment_header_problem).
  uint32_t segment_mtu = 0;
  /// Something downstream reads a frame's L4 header length: host-side
  /// segmentation. Host GRO needs it too; a source reads traffic.gro itself.
  bool need_headers() const { return segment_mtu != 0; }
  /// The file a parameter names (`key`, for errors), resolved against base_dir.
  std::filesystem::path path(const std::string& key, const std::string& file) const;
};

struct TrafficInfo {
  std::string name;
  std::string description;
  /// Declares the kind's parameters; `prefix` is "traffic.<name>.".
  std::function<void(ParamTable&, const std::string& prefix)> declare;
  std::function<std::unique_ptr<TrafficSource>(const TrafficContext&)> create;
  /// Optional: reads all of a file-backed source before a run, so damaged
  /// data is bad input (exit 2) rather than a failure mid-run. Throws
  /// InputError "POINTER-or-FILE: message"; may warn on stderr.
  std::function<void(const TrafficContext&)> validate;
  /// Optional: `vringsim trace-info FILE`. Returns nothing if the file is not
  /// of this kind; throws InputError if it is but is damaged.
  std::function<std::optional<Json>(const std::filesystem::path&)> describe;
};

/// The wire's settings (traffic.*), each bound to its parameter.
struct WireSettings {
  double link_gbps = 10;
  std::string arrival = "line-rate";  ///< line-rate, constant, poisson, onoff or trace
  double rate_gbps = 10;
  double speed = 1;
  uint64_t burst_frames = 32;
  double duty_cycle = 0.5;
  static const Bindings<WireSettings>& bindings();
  bool operator==(const WireSettings&) const = default;
};

/// Host-side merging's settings (traffic.gro.*).
struct GroSettings {
  bool enabled = false;
  uint64_t max_bytes = 65549;
  double flush_gap_s = 20e-6;
  static const Bindings<GroSettings>& bindings();
  bool operator==(const GroSettings&) const = default;
};

/// The wire: when each frame has fully arrived at the host.
class ArrivalProcess {
 public:
  enum class Mode { LineRate, Constant, Poisson, OnOff, Trace };
  static void declare(ParamTable& table);
  ArrivalProcess(const Config& cfg, uint64_t seed);
  ArrivalProcess(const WireSettings& settings, uint64_t seed);

  /// Arrival time (last bit received) of a frame of `len` bytes.
  double next_arrival(const Frame& frame);

 private:
  Mode mode_;
  double link_bps_;
  double rate_bps_;
  Rng rng_;
  double intended_ = 0.0;      ///< start time the process asks for
  double wire_free_ = 0.0;     ///< when the link finishes the previous frame
  double speed_ = 1.0;         ///< trace timing: time runs this many times faster
  uint64_t burst_frames_ = 0;  ///< on/off: frames per burst
  double duty_cycle_ = 1.0;    ///< on/off: share of time in bursts
  uint64_t in_burst_ = 0;
  double burst_start_ = 0.0;
};

/// A frame that has arrived at the host: what the tap queue sees.
struct Arrival {
  uint32_t len_bytes = 0;
  double time_s = 0;
  uint32_t flow = 0;     ///< the (first) frame's flow: a topology routes by it
  bool segment = false;  ///< one of the MTU frames the host cut a GSO packet into
};

/// Frames that arrived and that nobody saw one by one: a full tap dropped
/// them (Aggregator::skip, Dispatcher::skip).
struct SkippedFrames {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  double last = 0;  ///< the last one's arrival
  void add(uint32_t len, double time_s) {
    ++packets;
    bytes += len;
    last = time_s;
  }
};

/// Host-side GRO (or a TSO sender): merges consecutive frames of one flow
/// into super-packets up to a size, when they arrive close enough together.
/// A merged packet is the first frame plus the payload (length less
/// header_bytes) of each frame added; it arrives with its last frame.
/// Disabled, it passes frames through one by one.
class Aggregator {
 public:
  static void declare(ParamTable& table);
  Aggregator(const Config& cfg, TrafficSource& source, ArrivalProcess& wire);
  std::optional<Arrival> next();
  /// Hands out, as next() would one by one, every packet that arrives by
  /// `until` and before `below`, at most `most` of them, counting them in
  /// `skipped` instead of returning them (a full tap drops them unseen:
  /// HostDevice::admit_until). The source and the wire draw exactly what
  /// they would have drawn for next() (lengths, flows, gaps), so every later
  /// arrival is the same. Returns the first packet past those (handed out,
  /// as next() returns it), or nothing: the source is exhausted, or `most`
  /// were skipped.
  std::optional<Arrival> skip(double until, double below, uint64_t most, SkippedFrames& skipped);
  Json summary() const;
  TrafficSource& source() { return source_; }
  /// The guest cannot take GSO packets (no GUEST_TSO4/6/UFO): the host cuts
  /// a packet longer than `mtu` + 14 bytes that has a known L4 header into
  /// frames of at most that length (skb_gso_segment as the tap's
  /// features require), each carrying the header; they arrive together.
  /// Packets without a known header are left whole (a device drops them).
  /// A header that leaves less than kMinSegmentPayloadBytes is a bug: the
  /// sources refuse it as input (TrafficContext::segment_mtu). 0: cut nothing.
  void segment_for(uint32_t mtu) { segment_mtu_ = mtu; }

 private:
  struct Pending {
    Frame frame;
    double time_s;
  };
  std::optional<Pending> pull();

  TrafficSource& source_;
  ArrivalProcess& wire_;
  bool enabled_;
  uint64_t max_bytes_;
  double flush_gap_s_;
  std::optional<Pending> lookahead_;
  uint64_t frames_in_ = 0, packets_out_ = 0, merged_packets_ = 0, headers_removed_bytes_ = 0;
  uint32_t segment_mtu_ = 0;  ///< 0: the guest takes GSO packets
  std::deque<Arrival> segments_;
  uint64_t segmented_packets_ = 0, segments_out_ = 0, headers_added_bytes_ = 0;
  /// Merges frames from the wire (GRO); one packet, before segmentation.
  std::optional<Arrival> merged(uint32_t* header_bytes);
};

}  // namespace vringsim

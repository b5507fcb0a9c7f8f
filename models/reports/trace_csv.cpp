// `run --trace FILE`: one CSV row per event, in time order, up to a limit:
// time_s, actor, event, packet, head, count, len, bytes, detail (and queue,
// with several receive queues). A last line says how many were left out.
// Frames dropped as they arrive come as runs (FramesDropped): one
// dropped_run row each (docs/contract.md, run --trace).
#include <fmt/format.h>

#include <sstream>

#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"

namespace vringsim {
namespace {

class TraceCsv : public EventLog {
 public:
  TraceCsv(uint64_t limit, bool queues) : limit_(limit), queues_(queues) {
    out_ << "time_s,actor,event,packet,head,count,len,bytes,detail" << (queues_ ? ",queue\n" : "\n");
  }
  void attach(Signals& s) override {
    s.on<FrameArrived>().connect([this](const FrameArrived& e) {
      row(e.time, e.queue, "wire", "arrived", e.packet, 0, 0, e.len, 0, "");
    });
    s.on<FrameDropped>().connect([this](const FrameDropped& e) {
      row(e.time, e.queue, "host", "dropped", e.packet, 0, 0, e.len, 0, drop_reason_name(e.reason));
    });
    // A run of frames dropped on arrival, one row: its first frame's arrival
    // and id, the frames (count) and their bytes; detail: the reason and the
    // last frame's arrival.
    s.on<FramesDropped>().connect([this](const FramesDropped& e) {
      row(e.time, e.queue, "host", "dropped_run", e.packet, 0, e.count, 0, e.bytes,
          fmt::format("{} until={:.9f}", drop_reason_name(e.reason), e.last));
    });
    s.on<BuffersPosted>().connect([this](const BuffersPosted& e) {
      row(e.time, e.queue, "guest", "posted", 0, 0, e.chains, 0, e.bytes, "");
    });
    s.on<BuffersTaken>().connect([this](const BuffersTaken& e) {
      row(e.time, e.queue, "host", "taken", e.packet, e.head, e.chains, 0, e.bytes, "");
    });
    s.on<BuffersUsed>().connect([this](const BuffersUsed& e) {
      row(e.time, e.queue, "host", "used", e.packet, e.head, e.chains, e.written, e.bytes, "");
    });
    s.on<FrameDelivered>().connect([this](const FrameDelivered& e) {
      row(e.time, e.queue, "guest", "delivered", e.packet, 0, e.buffers, e.len, 0, "");
    });
    s.on<KickDecided>().connect([this](const KickDecided& e) {
      row(e.time, e.queue, "guest", "kick", 0, 0, 0, 0, 0, e.notified ? "notified" : "suppressed");
    });
    s.on<InterruptRaised>().connect(
        [this](const InterruptRaised& e) { row(e.time, e.queue, "host", "interrupt", 0, 0, 0, 0, 0, ""); });
    s.on<StallBegan>().connect(
        [this](const StallBegan& e) { row(e.time, e.queue, "host", "stall_begin", 0, 0, 0, 0, 0, ""); });
    s.on<StallEnded>().connect(
        [this](const StallEnded& e) { row(e.time, e.queue, "host", "stall_end", 0, 0, 0, 0, 0, ""); });
    s.on<CpuBusy>().connect([this](const CpuBusy& e) {
      row(e.time, e.queue, e.cpu == Cpu::Host ? "host" : "guest", "busy", 0, 0, 0, 0, 0,
          fmt::format("until={:.9f}", seconds(e.end)));
    });
    s.on<RefillFailed>().connect(
        [this](const RefillFailed& e) { row(e.time, e.queue, "guest", "refill_failed", 0, 0, 0, 0, 0, ""); });
    s.on<BadChainFound>().connect([this](const BadChainFound& e) {
      row(e.time, e.queue, "host", "bad_chain", 0, e.head, e.consumed, 0, e.bytes, chain_fault_name(e.fault));
    });
    s.on<DeviceBroke>().connect(
        [this](const DeviceBroke& e) { row(e.time, e.queue, "host", "device_broken", 0, 0, 0, 0, 0, ""); });
    s.on<RxLengthError>().connect([this](const RxLengthError& e) {
      row(e.time, e.queue, "guest", "rx_length_error", 0, e.head, 0, 0, 0, "");
    });
  }
  std::string text() const override {
    std::string t = out_.str();
    if (skipped_) t += fmt::format("# {} more events not written (--trace-limit)\n", skipped_);
    return t;
  }

 private:
  void row(double time, uint32_t queue, const char* actor, const char* event, uint64_t packet, uint16_t head,
           uint32_t count, uint32_t len, uint64_t bytes, std::string_view detail) {
    if (rows_ >= limit_) {
      ++skipped_;
      return;
    }
    ++rows_;
    out_ << fmt::format("{:.9f},{},{},{},{},{},{},{},{}", time, actor, event, packet, head, count, len, bytes, detail);
    out_ << (queues_ ? fmt::format(",{}\n", queue) : std::string("\n"));
  }

  uint64_t limit_;
  bool queues_;
  uint64_t rows_ = 0, skipped_ = 0;
  std::ostringstream out_;
};

const Registrar<EventLogInfo> kRegisteredTraceCsv{
    EventLogInfo{"csv", "one CSV row per event (run --trace FILE)",
                 [](uint64_t limit, bool queues) { return std::make_unique<TraceCsv>(limit, queues); }}};

}  // namespace
}  // namespace vringsim

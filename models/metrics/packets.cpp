// Frames and bytes: arrived, delivered and dropped by reason (the whole run,
// for the books), offered and delivered rates over the measured window
// and the drops in it (throughput.*), and the cumulative counts of the time series.
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

struct PacketTally {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  void add(uint32_t len) {
    ++packets;
    bytes += len;
  }
  void add(uint64_t n, uint64_t b) {
    packets += n;
    bytes += b;
  }
};

class Packets : public Metric {
 public:
  explicit Packets(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<FrameArrived>().connect([this](const FrameArrived& e) {
      arrived_.add(e.len);
      if (e.time >= warmup_) m_arrived_.add(e.len);
    });
    s.on<FrameDropped>().connect([this](const FrameDropped& e) {
      drops_[static_cast<int>(e.reason)].add(e.len);
      if (e.time >= warmup_) m_dropped_.add(e.len);
    });
    // A run of frames dropped on arrival: each arrived and was dropped. Its
    // frames are all on one side of the warm-up (HostDevice splits runs there).
    s.on<FramesDropped>().connect([this](const FramesDropped& e) {
      arrived_.add(e.count, e.bytes);
      drops_[static_cast<int>(e.reason)].add(e.count, e.bytes);
      if (e.time >= warmup_) {
        m_arrived_.add(e.count, e.bytes);
        m_dropped_.add(e.count, e.bytes);
      }
    });
    s.on<FrameDelivered>().connect([this](const FrameDelivered& e) {
      delivered_.add(e.len);
      if (e.time >= warmup_) m_delivered_.add(e.len);
    });
  }
  void write(Json& j, double end) const override {
    const double window = std::max(0.0, end - warmup_);
    auto per_s = [&](double x) { return window > 0 ? x / window : 0.0; };
    j["throughput"]["delivered_gbps"] = per_s(8.0 * static_cast<double>(m_delivered_.bytes)) / 1e9;
    j["throughput"]["delivered_pps"] = per_s(static_cast<double>(m_delivered_.packets));
    j["throughput"]["offered_gbps"] = per_s(8.0 * static_cast<double>(m_arrived_.bytes)) / 1e9;
    j["throughput"]["offered_pps"] = per_s(static_cast<double>(m_arrived_.packets));
    j["throughput"]["delivered_mpps"] = per_s(static_cast<double>(m_delivered_.packets)) / 1e6;
    j["throughput"]["measured_s"] = window;
    // Drops in the same window as the rates (packets.dropped is the whole run's).
    j["throughput"]["dropped_packets"] = m_dropped_.packets;
    for (int r = 0; r < kDropReasons; ++r)
      j["drops"][drop_reason_name(static_cast<DropReason>(r))] = drops_[r].packets;
    const PacketTally dropped = total_dropped();
    // The books (sim/world/books.cpp) check these event counts against the
    // actors' own and add what is still in flight.
    j["packets"]["arrived"] = arrived_.packets;
    j["packets"]["delivered"] = delivered_.packets;
    j["packets"]["dropped"] = dropped.packets;
    j["bytes"]["arrived"] = arrived_.bytes;
    j["bytes"]["delivered"] = delivered_.bytes;
    j["bytes"]["dropped"] = dropped.bytes;
  }
  std::vector<std::string> columns() const override {
    return {"delivered_packets", "dropped_packets", "arrived_packets"};
  }
  void sample(std::vector<double>& row) const override {
    row.push_back(static_cast<double>(delivered_.packets));
    row.push_back(static_cast<double>(total_dropped().packets));
    row.push_back(static_cast<double>(arrived_.packets));
  }

 private:
  PacketTally total_dropped() const {
    PacketTally t;
    for (const PacketTally& d : drops_) t.packets += d.packets, t.bytes += d.bytes;
    return t;
  }
  double warmup_;
  PacketTally arrived_, delivered_, m_arrived_, m_delivered_, m_dropped_;
  PacketTally drops_[kDropReasons];
};

const Registrar<MetricInfo> kRegisteredPackets{MetricInfo{
    "packets", "frames and bytes arrived, delivered and dropped by reason; offered and delivered rates", false,
    [](const MetricContext& ctx) { return std::make_unique<Packets>(ctx); }}};

}  // namespace
}  // namespace vringsim

// How frames fill buffers, over the measured window: the histogram of
// buffers per delivered frame (buffers_per_packet.<n>) and the share of the
// used buffer bytes that frames and headers filled (memory.fill_ratio).
#include <map>

#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class Buffers : public Metric {
 public:
  explicit Buffers(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<FrameDelivered>().connect([this](const FrameDelivered& e) {
      if (e.time >= warmup_) ++per_packet_[e.buffers];
    });
    s.on<BuffersUsed>().connect([this](const BuffersUsed& e) {
      if (e.time < warmup_) return;
      bytes_written_ += e.written;
      buffer_bytes_used_ += e.bytes;
    });
  }
  void write(Json& j, double) const override {
    j["memory"]["fill_ratio"] = buffer_bytes_used_ ? static_cast<double>(bytes_written_) /
                                                         static_cast<double>(buffer_bytes_used_)
                                                   : 0.0;
    j["buffers_per_packet"] = Json::object();
    for (const auto& [n, c] : per_packet_) j["buffers_per_packet"][std::to_string(n)] = c;
  }

 private:
  double warmup_;
  std::map<uint32_t, uint64_t> per_packet_;
  uint64_t bytes_written_ = 0;  // header + frame bytes written into buffers
  uint64_t buffer_bytes_used_ = 0;
};

const Registrar<MetricInfo> kRegisteredBuffers{MetricInfo{
    "buffers", "buffers per delivered frame (histogram) and how full the used buffers were", false,
    [](const MetricContext& ctx) { return std::make_unique<Buffers>(ctx); }}};

}  // namespace
}  // namespace vringsim

// The tap queue's length over time (the time series' tap_queue_packets): a
// frame joins it on arrival and leaves when dropped or taken by the device.
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class TapQueue : public Metric {
 public:
  void attach(Signals& s) override {
    s.on<FrameArrived>().connect([this](const FrameArrived&) { ++level_; });  // a drop at the tap undoes it at once
    s.on<FrameDropped>().connect([this](const FrameDropped&) { --level_; });
    // FramesDropped: frames that arrived and were dropped at once never were in the queue.
    s.on<BuffersTaken>().connect([this](const BuffersTaken&) { --level_; });
  }
  void write(Json&, double) const override {}
  std::vector<std::string> columns() const override { return {"tap_queue_packets"}; }
  void sample(std::vector<double>& row) const override { row.push_back(static_cast<double>(level_)); }

 private:
  int64_t level_ = 0;
};

const Registrar<MetricInfo> kRegisteredTapQueue{
    MetricInfo{"tap_queue", "frames waiting in the tap queue (time series)", true,
               [](const MetricContext&) { return std::make_unique<TapQueue>(); }}};

}  // namespace
}  // namespace vringsim

// Guest memory posted in the ring: its peak and time-average (memory.*), the
// peak of the indirect tables beside it,
// share of measured time with no chain published for the device
// (ring.empty_fraction), and both levels in the time series.
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class RingMemory : public Metric {
 public:
  explicit RingMemory(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<BuffersPosted>().connect([this](const BuffersPosted& e) {
      integrate_to(e.time);
      posted_bytes_ += e.bytes;
      peak_ = std::max(peak_, posted_bytes_);
      table_bytes_ += e.table_bytes;
      table_peak_ = std::max(table_peak_, table_bytes_);
      avail_chains_ += e.chains;
    });
    s.on<BuffersTaken>().connect([this](const BuffersTaken& e) {
      integrate_to(e.time);
      avail_chains_ -= e.chains;
    });
    s.on<BuffersUsed>().connect([this](const BuffersUsed& e) {
      integrate_to(e.time);
      posted_bytes_ -= e.bytes;
      table_bytes_ -= e.table_bytes;
    });
    s.on<BadChainFound>().connect([this](const BadChainFound& e) {  // a skipped chain is no longer posted
      integrate_to(e.time);
      avail_chains_ -= e.consumed;
      posted_bytes_ -= e.bytes;
      table_bytes_ -= e.table_bytes;
    });
  }
  void finish(double end) override { integrate_to(end); }
  void write(Json& j, double end) const override {
    const double window = std::max(0.0, end - warmup_);
    j["memory"]["posted_bytes_peak"] = peak_;
    j["memory"]["posted_bytes_mean"] = window > 0 ? integral_ / window : 0.0;
    j["memory"]["indirect_table_bytes_peak"] = table_peak_;
    j["ring"]["empty_fraction"] = share_of(empty_time_, window);
  }
  void total_from_queues(Json& run, std::span<const Json* const> queues, const Capacity& cap) const override {
    double empty = 0;  // the mean over the rings
    for (const Json* q : queues) empty += (*q)["ring"]["empty_fraction"].get<double>();
    run["ring"]["empty_fraction"] = empty / cap.queues;
  }
  std::vector<std::string> columns() const override { return {"posted_bytes", "avail_chains"}; }
  void sample(std::vector<double>& row) const override {
    row.push_back(static_cast<double>(posted_bytes_));
    row.push_back(static_cast<double>(avail_chains_));
  }

 private:
  double clip(double t) const { return t < warmup_ ? warmup_ : t; }
  void integrate_to(double t) {
    const double a = clip(level_time_), b = clip(t);
    if (b > a) {
      integral_ += static_cast<double>(posted_bytes_) * (b - a);
      if (avail_chains_ == 0) empty_time_ += b - a;
    }
    if (t > level_time_) level_time_ = t;
  }

  double warmup_;
  double level_time_ = 0;
  uint64_t posted_bytes_ = 0, peak_ = 0;
  uint64_t table_bytes_ = 0, table_peak_ = 0;  ///< indirect tables of the posted chains
  uint64_t avail_chains_ = 0;
  double integral_ = 0, empty_time_ = 0;
};

const Registrar<MetricInfo> kRegisteredRingMemory{MetricInfo{
    "ring_memory", "posted buffer memory (peak, mean) and the share of time the ring was empty", false,
    [](const MetricContext& ctx) { return std::make_unique<RingMemory>(ctx); }}};

}  // namespace
}  // namespace vringsim

#include "models/metrics/ring_occupancy.hpp"

#include <algorithm>

#include "sim/core/errors.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {

RingOccupancy::RingOccupancy(const MetricContext& ctx) : warmup_(ctx.warmup_s), entries_(ctx.ring_entries) {
  ensure(entries_ > 0, "ring_occupancy: a metric over no ring");
}

int RingOccupancy::bucket(uint64_t posted) const {
  // Bucket i holds levels in [i, i+1) x entries/16; a full ring is in the last.
  return static_cast<int>(std::min<uint64_t>(kBuckets - 1, posted * kBuckets / entries_));
}

void RingOccupancy::change(double t, int64_t delta) {
  const double from = std::max(since_, warmup_);
  if (t > from) time_in_[static_cast<size_t>(bucket(static_cast<uint64_t>(posted_)))] += t - from;
  since_ = std::max(since_, t);
  posted_ += delta;
  ensure(posted_ >= 0, "ring_occupancy: more descriptors taken than posted");
}

void RingOccupancy::attach(Signals& s) {
  s.on<BuffersPosted>().connect([this](const BuffersPosted& e) { change(e.time, e.descriptors); });
  s.on<BuffersTaken>().connect([this](const BuffersTaken& e) { change(e.time, -int64_t{e.descriptors}); });
  s.on<BadChainFound>().connect([this](const BadChainFound& e) { change(e.time, -int64_t{e.descriptors}); });
}

void RingOccupancy::finish(double end) { change(end, 0); }

void RingOccupancy::write(Json& j, double end) const {
  const double window = std::max(0.0, end - warmup_);
  Json& o = j["ring"]["occupancy"];
  o["bucket_descriptors"] = static_cast<double>(entries_) / kBuckets;
  for (int i = 0; i < kBuckets; ++i)
    o["share"][std::to_string(i)] = window > 0 ? time_in_[static_cast<size_t>(i)] / window : 0.0;
}

void RingOccupancy::total_from_queues(Json& run, std::span<const Json* const> queues, const Capacity& cap) const {
  Json& o = run["ring"]["occupancy"];
  o["bucket_descriptors"] = static_cast<double>(entries_) / cap.queues / kBuckets;  // one ring's
  for (int i = 0; i < kBuckets; ++i) {
    double sum = 0;
    for (const Json* q : queues) sum += (*q)["ring"]["occupancy"]["share"][std::to_string(i)].get<double>();
    o["share"][std::to_string(i)] = sum / cap.queues;
  }
}

namespace {
const Registrar<MetricInfo> kRegisteredRingOccupancy{MetricInfo{
    "ring_occupancy", "share of measured time with k descriptors posted, in 16 buckets (ring.occupancy.*)", false,
    [](const MetricContext& ctx) { return std::make_unique<RingOccupancy>(ctx); }}};
}  // namespace

}  // namespace vringsim

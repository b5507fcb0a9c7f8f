// Seeded random streams, one per component.
//
// Every component that draws random numbers (traffic lengths, arrivals, page
// allocation failures...) gets its own stream derived from the scenario seed
// and the component's name, so adding a draw in one component never shifts
// another's sequence. The distributions are written out here rather than taken
// from <random>, whose distribution algorithms are implementation-defined:
// results must be byte-identical across standard libraries.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string_view>

namespace vringsim {

/// SplitMix64 finaliser: a good 64-bit mixer for deriving seeds.
constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// FNV-1a over a name: stable across runs and platforms.
constexpr uint64_t name_hash(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

class Rng {
 public:
  Rng(uint64_t seed, std::string_view stream) : engine_(splitmix64(seed ^ name_hash(stream))) {}
  /// The stream whose name hashes to `stream_hash` (name_hash).
  static Rng from_hash(uint64_t seed, uint64_t stream_hash) { return Rng(splitmix64(seed ^ stream_hash)); }

  uint64_t next_u64() { return engine_(); }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [lo, hi] (inclusive), by rejection: no modulo bias.
  uint64_t uniform_int(uint64_t lo, uint64_t hi) {
    const uint64_t span = hi - lo + 1;
    if (span == 0) return lo + engine_();  // the whole 64-bit range
    const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return lo + x % span;
  }

  /// Bernoulli trial; p <= 0 never draws (so a zero probability costs nothing
  /// and does not advance the stream).
  bool chance(double p) { return p > 0.0 && uniform() < p; }

  /// Exponential with the given mean.
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }

 private:
  explicit Rng(uint64_t engine_seed) : engine_(engine_seed) {}
  std::mt19937_64 engine_;
};

/// An Rng made at its first draw: the same stream, drawn the same, but a
/// component that may never draw (a queue's fault or service-time stream)
/// holds 16 bytes instead of std::mt19937_64's 2,504 (two of those were 5 KiB
/// of every receive queue).
class LazyRng {
 public:
  LazyRng(uint64_t seed, std::string_view stream) : seed_(seed), stream_(name_hash(stream)) {}

  uint64_t next_u64() { return rng().next_u64(); }
  double uniform() { return rng().uniform(); }
  uint64_t uniform_int(uint64_t lo, uint64_t hi) { return rng().uniform_int(lo, hi); }
  /// As Rng::chance: p <= 0 never draws, nor makes the stream.
  bool chance(double p) { return p > 0.0 && rng().uniform() < p; }
  double exponential(double mean) { return rng().exponential(mean); }

 private:
  Rng& rng() {
    if (!rng_) [[unlikely]]
      rng_ = std::make_unique<Rng>(Rng::from_hash(seed_, stream_));
    return *rng_;
  }
  uint64_t seed_;
  uint64_t stream_;  ///< name_hash of the stream's name
  std::unique_ptr<Rng> rng_;
};

}  // namespace vringsim

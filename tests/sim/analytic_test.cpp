// The Markov-chain solver against closed forms, and the ring-size knee (sim/core/ring_knee.hpp) by hand.
#include "sim/core/analytic.hpp"
#include "sim/core/ring_knee.hpp"
#include "sim/core/scenario.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace vringsim {
namespace {

TEST(MarkovChain, ATwoStateChainBalancesItsRates) {
  // 0 -> 1 at rate a, 1 -> 0 at rate b: pi = (b, a) / (a + b).
  Eigen::SparseMatrix<double> Q(2, 2);
  const double a = 3, b = 7;
  Q.insert(0, 0) = -a;
  Q.insert(0, 1) = a;
  Q.insert(1, 0) = b;
  Q.insert(1, 1) = -b;
  const Eigen::VectorXd pi = stationary_distribution(Q);
  EXPECT_NEAR(pi(0), 0.7, 1e-14);
  EXPECT_NEAR(pi(1), 0.3, 1e-14);
}

TEST(MarkovChain, TheSolvedMm1kMatchesTheClosedForm) {
  for (double rho : {0.1, 0.5, 0.9, 1.0, 1.2, 3.0})
    for (uint64_t k : {1u, 2u, 8u, 32u, 501u, 2000u}) {
      const double mu = 1e5, lambda = rho * mu;
      const QueuePrediction s = solve_mm1k(lambda, mu, k), c = mm1k_closed_form(lambda, mu, k);
      ASSERT_EQ(s.distribution.size(), static_cast<Eigen::Index>(k + 1));
      EXPECT_NEAR(s.distribution.sum(), 1.0, 1e-10);
      EXPECT_LT((s.distribution - c.distribution).cwiseAbs().maxCoeff(), 1e-11) << rho << " " << k;
      EXPECT_NEAR(s.blocking, c.blocking, 1e-11);
      EXPECT_NEAR(s.mean_sojourn_s / c.mean_sojourn_s, 1.0, 1e-9) << rho << " " << k;
      EXPECT_NEAR(s.throughput_pps, lambda * (1 - c.blocking), 1e-6 * lambda);
    }
}

TEST(MarkovChain, KnownValuesOfMm1k) {
  // M/M/1/1 is Erlang's loss system: blocking rho / (1 + rho).
  EXPECT_NEAR(solve_mm1k(2.0, 1.0, 1).blocking, 2.0 / 3.0, 1e-14);
  // At rho = 1 every state is equally likely: blocking 1/(K+1), L = K/2.
  const QueuePrediction q = solve_mm1k(5.0, 5.0, 9);
  EXPECT_NEAR(q.blocking, 0.1, 1e-13);
  EXPECT_NEAR(q.mean_in_system, 4.5, 1e-12);
  // A long queue at low load is M/M/1: W = 1 / (mu - lambda).
  EXPECT_NEAR(solve_mm1k(0.5, 1.0, 200).mean_sojourn_s, 2.0, 1e-9);
}

TEST(MarkovChain, ProbabilitiesAtRoundingNoiseAreNeverNegative) {
  // Issue 30: at light load pi_K is below the LU solve's rounding error and
  // came out as -7.6e-18, printed as a negative drop probability.
  for (double rho = 0.001; rho < 1.0; rho *= 1.3)
    for (uint64_t k : {8u, 16u, 32u, 64u, 256u}) {
      const QueuePrediction q = solve_mm1k(rho * 1e5, 1e5, k);
      EXPECT_GE(q.distribution.minCoeff(), 0.0) << rho << " " << k;
      EXPECT_GE(q.blocking, 0.0) << rho << " " << k;
      EXPECT_LE(q.blocking, 1.0) << rho << " " << k;
      EXPECT_GE(q.utilization, 0.0) << rho << " " << k;
      EXPECT_LE(q.utilization, 1.0) << rho << " " << k;
    }
}

}  // namespace
}  // namespace vringsim

namespace vringsim {
namespace {

Config knee_config(const std::string& refill_rule, int budget, const Json& extra = Json::object()) {
  Json doc = {{"name", "k"}, {"guest", {{"refill_rule", refill_rule}, {"napi_budget", budget}}}};
  doc.merge_patch(extra);
  return load_scenario_doc(doc, "knee", ".", {}).config;
}

// The round trip with the default costs: host interrupt 1000 + guest
// interrupt 2000 + poll 200 + guest kick 2000 + host kick 2000 = 7200 ns.
TEST(RingKnee, LittlesLawWithEachRefillRule) {
  const RingKnee k2008 = ring_knee(knee_config("2008", 64), 100'000, 20);
  EXPECT_DOUBLE_EQ(k2008.round_trip_s, 7200e-9);
  EXPECT_NEAR(k2008.latency_slots, 2 * 0.72, 1e-12);  // half the ring drains before a refill
  EXPECT_DOUBLE_EQ(k2008.amortized_slots, 0.0);       // no saturated CPU given
  EXPECT_NEAR(k2008.entries, 20 * 1.44, 1e-9);
  // Today's rule with budget 1 refills at once: the round trip alone.
  EXPECT_NEAR(ring_knee(knee_config("today", 1), 100'000, 1).slots, 0.72, 1e-12);
  // With budget 4 and a 10-packet trip: 10 + floor(4 / 2).
  const Json lat = {{"latency", {{"interrupt_ns", 92'800}}}};  // a round trip of 100 us
  EXPECT_NEAR(ring_knee(knee_config("today", 4, lat), 100'000, 1).slots, 12.0, 1e-9);
  // A halted vCPU's wake-up counts only when packets are further apart than the halt polling.
  const Json wake = {{"latency", {{"vcpu_wakeup_ns", 50'000}}}, {"host", {{"halt_poll_ns", 200'000}}}};
  EXPECT_NEAR(ring_knee(knee_config("today", 1, wake), 1'000, 1).round_trip_s, 57'200e-9, 1e-15);
  EXPECT_NEAR(ring_knee(knee_config("today", 1, wake), 100'000, 1).round_trip_s, 7'200e-9, 1e-15);
}

// A saturated guest pays interrupt + poll + kick = 4200 ns a round; under 1%
// of the round's packets once a round carries 100 x 100,000 x 4.2 us = 42.
TEST(RingKnee, ASaturatedCpuWantsItsFixedCostsAmortized) {
  const RingKnee k = ring_knee(knee_config("2008", 64), 100'000, 1, 0.99, 0.3);
  EXPECT_NEAR(k.cpu_round_s, 4200e-9, 1e-15);
  EXPECT_NEAR(k.amortized_slots, 84.0, 1e-9);
  EXPECT_DOUBLE_EQ(k.slots, k.amortized_slots);
  // A saturated host: interrupt + kick = 3000 ns.
  EXPECT_NEAR(ring_knee(knee_config("2008", 64), 100'000, 1, 0.5, 0.97).cpu_round_s, 3000e-9, 1e-15);
}

}  // namespace
}  // namespace vringsim

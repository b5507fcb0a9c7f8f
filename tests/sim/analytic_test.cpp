// The Markov-chain solver against closed forms.
#include "sim/core/analytic.hpp"

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

}  // namespace
}  // namespace vringsim

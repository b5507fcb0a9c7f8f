#include "sim/core/analytic.hpp"

#include <fmt/format.h>

#include <Eigen/SparseLU>

#include <algorithm>
#include <cmath>

#include "sim/core/errors.hpp"

namespace vringsim {

Eigen::VectorXd stationary_distribution(const Eigen::SparseMatrix<double>& Q) {
  const Eigen::Index n = Q.rows();
  ensure(n > 0 && Q.cols() == n, "a generator must be square and non-empty");
  // pi Q = 0  <=>  Q^T pi^T = 0; one of those equations is redundant: replace
  // the last by the normalisation sum(pi) = 1.
  Eigen::SparseMatrix<double> A = Q.transpose();
  A.prune([n](Eigen::Index row, Eigen::Index, double) { return row != n - 1; });
  std::vector<Eigen::Triplet<double>> ones;
  for (Eigen::Index j = 0; j < n; ++j) ones.emplace_back(n - 1, j, 1.0);
  Eigen::SparseMatrix<double> last(n, n);
  last.setFromTriplets(ones.begin(), ones.end());
  A += last;
  A.makeCompressed();
  Eigen::SparseLU<Eigen::SparseMatrix<double>> lu;
  lu.compute(A);
  ensure(lu.info() == Eigen::Success, "the Markov chain's balance equations are singular");
  Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
  b(n - 1) = 1.0;
  Eigen::VectorXd pi = lu.solve(b);
  ensure(lu.info() == Eigen::Success, "solving the balance equations failed");
  return pi;
}

namespace {
QueuePrediction figures_from(double lambda, double mu, uint64_t k, Eigen::VectorXd pi) {
  // A probability below the solve's rounding error can come out a little
  // below zero (pi_K = -7.6e-18 at light load): it is zero.
  pi = pi.cwiseMax(0.0).cwiseMin(1.0);
  QueuePrediction q;
  q.arrival_rate = lambda;
  q.service_rate = mu;
  q.capacity = k;
  q.blocking = pi(static_cast<Eigen::Index>(k));
  q.throughput_pps = lambda * (1.0 - q.blocking);
  for (Eigen::Index i = 0; i < pi.size(); ++i) q.mean_in_system += static_cast<double>(i) * pi(i);
  q.mean_sojourn_s = q.mean_in_system / q.throughput_pps;
  q.utilization = std::clamp(1.0 - pi(0), 0.0, 1.0);
  q.distribution = std::move(pi);
  return q;
}
}  // namespace

QueuePrediction solve_mm1k(double lambda, double mu, uint64_t capacity) {
  ensure(lambda > 0 && mu > 0 && capacity >= 1, "M/M/1/K needs positive rates and K >= 1");
  const auto n = static_cast<Eigen::Index>(capacity + 1);
  std::vector<Eigen::Triplet<double>> t;
  for (Eigen::Index i = 0; i < n; ++i) {
    double out = 0;
    if (i + 1 < n) {  // an arrival, unless full
      t.emplace_back(i, i + 1, lambda);
      out += lambda;
    }
    if (i > 0) {  // a service completion
      t.emplace_back(i, i - 1, mu);
      out += mu;
    }
    t.emplace_back(i, i, -out);
  }
  Eigen::SparseMatrix<double> Q(n, n);
  Q.setFromTriplets(t.begin(), t.end());
  return figures_from(lambda, mu, capacity, stationary_distribution(Q));
}

QueuePrediction mm1k_closed_form(double lambda, double mu, uint64_t capacity) {
  const double rho = lambda / mu;
  const auto n = static_cast<Eigen::Index>(capacity + 1);
  Eigen::VectorXd pi(n);
  const auto kk = static_cast<double>(capacity);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto ii = static_cast<double>(i);
    if (std::abs(rho - 1.0) < 1e-12)
      pi(i) = 1.0 / static_cast<double>(n);
    else if (rho < 1.0)
      pi(i) = (1.0 - rho) * std::pow(rho, ii) / (1.0 - std::pow(rho, kk + 1));
    else {  // the same, in powers of 1/rho so that nothing overflows
      const double r = 1.0 / rho;
      pi(i) = (1.0 - r) * std::pow(r, kk - ii) / (1.0 - std::pow(r, kk + 1));
    }
  }
  return figures_from(lambda, mu, capacity, std::move(pi));
}

}  // namespace vringsim

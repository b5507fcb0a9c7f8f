// An analytic model independent of the simulator, for the case where its
// assumptions hold: Poisson arrivals of equal frames, a host whose time per
// frame is exponential (costs.host.service_distribution = exponential), and a
// guest that costs nothing, so the ring never runs dry and a frame is
// delivered the moment the host finishes it. Then the number of frames in the
// host (tap queue plus the one in service) is a birth-death Markov chain on
// 0..K, K = host.tap_queue_packets + 1: M/M/1/K. It is solved numerically
// (Eigen, sparse LU on the generator), not from the closed form, so the same
// solver serves chains without one; the closed form checks the solver.
#pragma once

#include <Eigen/Sparse>

#include <cstdint>
#include <string>
#include <vector>


namespace vringsim {

/// The stationary distribution pi of a finite continuous-time Markov chain
/// with generator Q (rows sum to zero): pi Q = 0, sum(pi) = 1.
Eigen::VectorXd stationary_distribution(const Eigen::SparseMatrix<double>& Q);

struct QueuePrediction {
  double arrival_rate = 0;       ///< lambda, frames/s
  double service_rate = 0;       ///< mu, frames/s
  uint64_t capacity = 0;         ///< K: frames the host can hold (queue + service)
  double blocking = 0;           ///< P(an arrival finds K frames): the drop probability
  double throughput_pps = 0;     ///< lambda (1 - blocking)
  double mean_in_system = 0;     ///< L
  double mean_sojourn_s = 0;     ///< W = L / throughput (Little)
  double utilization = 0;        ///< 1 - pi_0
  Eigen::VectorXd distribution;  ///< pi_0..pi_K
};

/// Builds the M/M/1/K generator and solves it with stationary_distribution().
QueuePrediction solve_mm1k(double lambda, double mu, uint64_t capacity);
/// The textbook closed form (for tests).
QueuePrediction mm1k_closed_form(double lambda, double mu, uint64_t capacity);

}  // namespace vringsim

// `vringsim calibrate MEASUREMENTS.json`: fits the cost parameters a user
// names so that simulated throughput matches measured points, by
// Levenberg-Marquardt least squares (Eigen) on relative residuals; every
// evaluation is a simulation in a child process. Writes a cost preset that
// scenarios use through costs.preset.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/core/params.hpp"

namespace vringsim {

struct CalibrationParam {
  std::string key;
  double initial = 0, min = 0, max = 0;
};

struct CalibrationPoint {
  std::string scenario;                ///< path, resolved against the measurement file's directory
  std::vector<std::string> overrides;  ///< "KEY=JSON" from the point's "set"
  double measured = 0;
};

struct Calibration {
  std::string file, name;
  std::vector<CalibrationParam> params;
  std::vector<CalibrationPoint> points;
  std::string metric = "throughput.delivered_gbps";
  double tolerance = 0.005;  ///< largest relative residual counted as converged
  int max_iterations = 30;
};

/// Reads and checks a measurement file; InputError names the file and pointer.
Calibration load_calibration(const std::string& path);

struct FitResult {
  bool converged = false;
  int iterations = 0;
  int simulations = 0;
  std::vector<double> values;     ///< fitted (or best found)
  std::vector<double> simulated;  ///< the metric at `values`, per point
  std::vector<double> residuals;  ///< (simulated - measured) / measured
};

/// The fit itself: `simulate(values)` returns the metric per point.
FitResult fit_least_squares(const Calibration& c,
                            const std::function<std::vector<double>(const std::vector<double>&)>& simulate);

int cmd_calibrate(const std::string& file, const std::string& out);

}  // namespace vringsim

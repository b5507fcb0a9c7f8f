// `vringsim calibrate MEASUREMENTS.json`: fits the cost parameters a user
// names so that simulated throughput matches measured points, by
// Levenberg-Marquardt least squares (Eigen) on relative residuals; every
// evaluation is a simulation in a child process. Writes a cost preset that
// scenarios use through costs.preset. After the fit it says when the fit is
// not one (docs/contract.md "Calibration"): a parameter at a bound, a point
// the parameters barely move, parameters the points cannot tell apart.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/command.hpp"
#include "sim/core/params.hpp"

namespace vringsim {

struct CalibrationParam {
  std::string key;
  double initial = 0, min = 0, max = 0;
  /// "step": the fitted value is written as a multiple of it (0: as fitted).
  /// Whole nanoseconds keep every sum of costs exact in the engine's clock,
  /// so results cannot depend on how a run groups its frames.
  double step = 0;
};

struct CalibrationPoint {
  std::string scenario;                ///< path, resolved against the measurement file's directory
  std::vector<std::string> overrides;  ///< "KEY=JSON" from the point's "set"
  Json set = Json::object();           ///< the point's "set" as written (an object of scenario keys)
  double measured = 0;
};

struct Calibration {
  std::string file, name;
  /// "preset": the preset file the fit updates (relative to the
  /// calibration file): --out writes it back whole, its fitted values
  /// replaced and its "fit" record renewed, so that one command regenerates
  /// a shipped preset. Empty: --out holds the fitted values alone.
  std::string preset;
  std::vector<CalibrationParam> params;
  std::vector<CalibrationPoint> points;
  std::string metric = "throughput.delivered_gbps";
  double tolerance = 0.005;  ///< largest relative residual counted as converged
  int max_iterations = 30;
};

/// Reads and checks a measurement file; InputError names the file and pointer.
Calibration load_calibration(const std::string& path);

/// When a fit is not a fit. The thresholds are documented in
/// docs/guide/calibrating.md ("When a fit is not a fit") and docs/contract.md; each is a judgement, explained here.
namespace fit_limits {
/// A parameter is at a bound when it ended within this share of the way
/// from its initial value to that bound. The damped step is clamped, so a
/// parameter the points push past a bound lands exactly on it; 1% also
/// catches one that settled beside it. Measured from the initial value, not
/// across the range, so a cost with only the parameter table's 0..1e9 as
/// bounds is not "near" 0 at 5,000 ns.
constexpr double kAtBoundShare = 0.01;
/// A point barely depends on the parameters when the sum over parameters of
/// |d ln(metric) / d ln(parameter)| is below this: moving every parameter
/// by 10% then moves its metric by under 0.5%, the default tolerance, so
/// the fit cannot use it (a saturated run, or one a cost not fitted limits).
constexpr double kInsensitiveElasticity = 0.05;
/// The points do not determine the parameters separately when the
/// condition number of the elasticity matrix (points x parameters, each
/// entry d ln(metric) / d ln(parameter)) is above this: the weakest
/// combination of parameters then moves the points 100 times less than the
/// strongest, so a 0.5% misfit leaves it free by 50%. Well-posed fits sit
/// far below (the shipped 2008 fit: 2.58).
constexpr double kIllConditioned = 100;
/// In the weakest combination, parameters whose share is at least this
/// fraction of the largest are named.
constexpr double kCombinationShare = 0.1;
}  // namespace fit_limits

/// One finding about a fit: a machine-readable kind, a sentence, and the
/// figures (the parameter or point named, the value and threshold).
struct FitDiagnostic {
  std::string kind;  ///< "parameter_at_bound", "point_insensitive", "parameters_not_separable"
  std::string message;
  Json detail = Json::object();
};

struct FitResult {
  bool converged = false;
  int iterations = 0;
  int simulations = 0;                     ///< those of the fit itself
  int diagnostic_simulations = 0;          ///< those of the Jacobian at the result (0 when the fit ended on one)
  std::string stopped;                     ///< "tolerance", "max_iterations" or "no_improvement"
  std::vector<double> values;              ///< fitted (or best found)
  std::vector<double> simulated;           ///< the metric at `values`, per point
  std::vector<double> residuals;           ///< (simulated - measured) / measured
  std::vector<double> elasticity;          ///< per point: sum over parameters of |d ln(metric) / d ln(parameter)|
  std::optional<double> condition_number;  ///< of the elasticity matrix; none with one parameter or no sensitivity
  std::vector<FitDiagnostic> diagnostics;
};

/// A point as messages name it: `/points/1 (mergeable.json, set stop.time_s=1.0)`.
std::string point_label(const Calibration& c, size_t i);

/// The fit itself: `simulate(values)` returns the metric per point. Ends
/// with the Jacobian at the result and the diagnostics it gives.
FitResult fit_least_squares(const Calibration& c,
                            const std::function<std::vector<double>(const std::vector<double>&)>& simulate);

int cmd_calibrate(const std::string& file, const std::string& out);

/// `vringsim calibrate`: adds the command to `app` (app/command.hpp).
Command calibrate_command(CLI::App& app);

}  // namespace vringsim

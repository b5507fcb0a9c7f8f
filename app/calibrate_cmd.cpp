#include "app/calibrate_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "app/exit_codes.hpp"
#include "sim/core/cost_preset.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

namespace vringsim {

namespace fs = std::filesystem;

namespace {


double number_at(const Json& j, const std::string& file, const std::string& ptr) {
  if (!j.is_number()) fail_input(file, ptr, fmt::format("expected a number, got {}", brief_json(j)));
  return j.get<double>();
}

}  // namespace

Calibration load_calibration(const std::string& path) {
  const Json doc = read_json_file(path);
  Calibration c;
  c.file = path;
  if (!doc.is_object()) fail_input(path, "", "a measurement file must be a JSON object");
  static const std::set<std::string> known = {"schema_version", "name",   "description", "parameters",    "points",
                                              "metric",         "preset", "tolerance",   "max_iterations"};
  for (const auto& [k, v] : doc.items())
    if (!known.contains(k)) fail_input(path, "/" + k, "unknown key");
  if (doc.contains("schema_version") && doc["schema_version"] != 1) fail_input(path, "/schema_version", "must be 1");
  if (doc.contains("name") && !doc["name"].is_string()) fail_input(path, "/name", "expected a string");
  c.name = doc.value("name", fs::path(path).stem().string());
  if (doc.contains("preset")) {
    if (!doc["preset"].is_string() || doc["preset"].get<std::string>().empty())
      fail_input(path, "/preset", "expected the name of the preset file the fit updates");
    const fs::path f = fs::path(path).parent_path() / doc["preset"].get<std::string>();
    if (!fs::is_regular_file(f)) fail_input(path, "/preset", fmt::format("{} does not exist", f.string()));
    check_cost_preset(read_json_file(f.string()), f.string());
    c.preset = f.string();
  }
  const ParamTable& table = param_table();
  auto numeric_param = [&](const std::string& key, const std::string& ptr) -> const ParamSpec* {
    const ParamSpec* spec = table.find(key);
    if (!spec) {
      const std::string near = table.nearest(key);
      fail_input(path, ptr,
          near.empty() ? fmt::format("unknown scenario key \"{}\"", key)
                       : fmt::format("unknown scenario key \"{}\" (did you mean {}?)", key, near));
    }
    return spec;
  };
  // parameters: {"costs.guest.per_packet_ns": {"initial": 4000, "min": 100, "max": 50000}, ...}
  if (!doc.contains("parameters") || !doc["parameters"].is_object() || doc["parameters"].empty())
    fail_input(path, "/parameters", "expected an object naming at least one parameter to fit");
  for (const auto& [key, spec_json] : doc["parameters"].items()) {
    const std::string ptr = "/parameters/" + key;
    const ParamSpec* spec = numeric_param(key, ptr);
    if (spec->type != ParamType::Number) fail_input(path, ptr, "only real-valued parameters can be fitted");
    CalibrationParam p;
    p.key = key;
    p.initial = spec->default_value.get<double>();
    p.min = spec->min.value_or(-1e300);
    p.max = spec->max.value_or(1e300);
    if (!spec_json.is_object()) fail_input(path, ptr, "expected an object (initial, min, max)");
    for (const auto& [k, v] : spec_json.items()) {
      if (k == "initial")
        p.initial = number_at(v, path, ptr + "/initial");
      else if (k == "min")
        p.min = std::max(p.min, number_at(v, path, ptr + "/min"));
      else if (k == "max")
        p.max = std::min(p.max, number_at(v, path, ptr + "/max"));
      else if (k == "step") {
        p.step = number_at(v, path, ptr + "/step");
        if (!(p.step > 0)) fail_input(path, ptr + "/step", "must be positive");
      } else
        fail_input(path, ptr + "/" + k, "unknown key (initial, min, max, step)");
    }
    if (!(p.min <= p.initial && p.initial <= p.max))
      fail_input(path, ptr, fmt::format("initial {} is outside [{}, {}]", p.initial, p.min, p.max));
    c.params.push_back(p);
  }
  if (!doc.contains("points") || !doc["points"].is_array()) fail_input(path, "/points", "expected a list of measured points");
  const fs::path base = fs::path(path).parent_path();
  for (size_t i = 0; i < doc["points"].size(); ++i) {
    const Json& pj = doc["points"][i];
    const std::string ptr = fmt::format("/points/{}", i);
    if (!pj.is_object()) fail_input(path, ptr, "expected an object (scenario, measured_gbps, set)");
    CalibrationPoint p;
    for (const auto& [k, v] : pj.items()) {
      if (k == "scenario") {
        if (!v.is_string()) fail_input(path, ptr + "/scenario", "expected a file name");
        const fs::path f = fs::path(v.get<std::string>()).is_absolute() ? fs::path(v.get<std::string>())
                                                                         : base / v.get<std::string>();
        if (!fs::is_regular_file(f)) fail_input(path, ptr + "/scenario", fmt::format("{} does not exist", f.string()));
        p.scenario = f.string();
      } else if (k == "measured") {
        p.measured = number_at(v, path, ptr + "/measured");
        if (!(p.measured > 0)) fail_input(path, ptr + "/measured", "must be positive");
      } else if (k == "set") {
        if (!v.is_object()) fail_input(path, ptr + "/set", "expected an object of scenario keys");
        p.set = v;
        for (const auto& [key, value] : v.items()) {
          const ParamSpec* spec = numeric_param(key, ptr + "/set/" + key);
          const std::string err = spec->validate(value);
          if (!err.empty()) fail_input(path, ptr + "/set/" + key, err);
          p.overrides.push_back(key + "=" + value.dump());
        }
      } else {
        fail_input(path, ptr + "/" + k, "unknown key (scenario, measured, set)");
      }
    }
    if (p.scenario.empty()) fail_input(path, ptr, "no \"scenario\"");
    if (p.measured <= 0) fail_input(path, ptr, "no \"measured\" value");
    c.points.push_back(std::move(p));
  }
  if (doc.contains("metric")) {
    if (!doc["metric"].is_string()) fail_input(path, "/metric", "expected a summary key such as throughput.delivered_gbps");
    c.metric = doc["metric"].get<std::string>();
  }
  if (doc.contains("tolerance")) {
    c.tolerance = number_at(doc["tolerance"], path, "/tolerance");
    if (!(c.tolerance > 0 && c.tolerance < 1)) fail_input(path, "/tolerance", "must be in (0, 1)");
  }
  if (doc.contains("max_iterations")) {
    if (!doc["max_iterations"].is_number_integer() || doc["max_iterations"].get<int64_t>() < 1 ||
        doc["max_iterations"].get<int64_t>() > 1000)
      fail_input(path, "/max_iterations", "expected an integer in 1..1000");
    c.max_iterations = doc["max_iterations"].get<int>();
  }
  if (c.points.size() < c.params.size())
    fail_input(path, "/points",
        fmt::format("{} measured point{} cannot determine {} parameters: give at least as many points as parameters",
                    c.points.size(), c.points.size() == 1 ? "" : "s", c.params.size()));
  // Every point must load with the parameters set (the scenario's own errors surface here, before any run).
  for (const auto& p : c.points) {
    std::vector<std::string> o;
    for (const auto& q : c.params) o.push_back(fmt::format("{}={}", q.key, q.initial));
    o.insert(o.end(), p.overrides.begin(), p.overrides.end());  // the point's own setup wins (point_overrides)
    load_scenario(p.scenario, o, o.size());  // a point's `set` is written in the calibration file, not typed
  }
  return c;
}

std::string point_label(const Calibration& c, size_t i) {
  const CalibrationPoint& p = c.points[i];
  std::string set;
  for (const auto& o : p.overrides) set += (set.empty() ? "" : " ") + o;
  return fmt::format("/points/{} ({}{})", i, fs::path(p.scenario).filename().string(),
                     set.empty() ? "" : ", set " + set);
}

namespace {

bool is_finite_bound(double b) { return std::abs(b) < 1e299; }  // load_calibration's ±1e300: no bound

std::string percent(double share) { return fmt::format("{:+.2f}%", 100 * share); }

// What the Jacobian at the result says about the fit (fit_limits explains
// each threshold). J holds d(residual_i)/d(parameter_j), residuals relative
// to the measured values.
void diagnose(const Calibration& c, const Eigen::MatrixXd& J, FitResult& f) {
  namespace L = fit_limits;
  const auto m = J.rows(), n = J.cols();
  // (a) A parameter at one of its bounds: the points asked for more than the bound allows.
  for (Eigen::Index j = 0; j < n; ++j) {
    const CalibrationParam& q = c.params[static_cast<size_t>(j)];
    const double v = f.values[static_cast<size_t>(j)];
    for (const auto& [which, b] : {std::pair<const char*, double>{"min", q.min}, {"max", q.max}}) {
      if (!is_finite_bound(b) || std::abs(v - b) > L::kAtBoundShare * std::abs(q.initial - b)) continue;
      f.diagnostics.push_back(
          {"parameter_at_bound",
           fmt::format("{} ended at its {} ({:g}): the points ask for a value beyond it; widen the bound if such a "
                       "value is plausible, otherwise something not fitted limits these points",
                       q.key, which, b),
           {{"parameter", q.key}, {"bound", which}, {"bound_value", b}, {"value", v}}});
      break;  // min == max is one finding, not two
    }
  }
  // Elasticities: d ln(metric_i) / d ln(parameter_j), at the result. A
  // parameter fitted to 0 has none, so it counts by the size it started at
  // (or by 1 unit); the metric is the simulated one (a fit far from its
  // measurement would otherwise look insensitive).
  Eigen::MatrixXd E(m, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const CalibrationParam& q = c.params[static_cast<size_t>(j)];
    double scale = std::abs(f.values[static_cast<size_t>(j)]);
    if (scale == 0) scale = std::abs(q.initial);
    if (scale == 0) scale = 1;
    for (Eigen::Index i = 0; i < m; ++i) {
      const double measured = c.points[static_cast<size_t>(i)].measured;
      const double y = f.simulated[static_cast<size_t>(i)];
      E(i, j) = J(i, j) * measured / (y > 0 ? y : measured) * scale;
    }
  }
  // (b) A point the parameters barely move.
  f.elasticity.assign(static_cast<size_t>(m), 0.0);
  for (Eigen::Index i = 0; i < m; ++i) {
    const double e = E.row(i).cwiseAbs().sum();
    f.elasticity[static_cast<size_t>(i)] = e;
    if (e >= L::kInsensitiveElasticity) continue;
    const CalibrationPoint& p = c.points[static_cast<size_t>(i)];
    f.diagnostics.push_back(
        {"point_insensitive",
         fmt::format("{} barely depends on the parameters (sum of |d ln {} / d ln parameter| = {:.3g}, under {:g}): "
                     "saturated, or limited by something not fitted",
                     point_label(c, static_cast<size_t>(i)), c.metric, e, L::kInsensitiveElasticity),
         {{"point", i},
          {"scenario", p.scenario},
          {"set", p.set},
          {"elasticity", e},
          {"threshold", L::kInsensitiveElasticity}}});
  }
  // (c) Parameters the points cannot tell apart: the elasticity matrix's
  // condition number, and the combination its smallest singular vector moves.
  if (n < 2) return;
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(E, Eigen::ComputeThinV);
  const Eigen::VectorXd& sv = svd.singularValues();
  if (!(sv(0) > 0)) return;  // nothing moves any point: (b) said so for each
  const double kappa = sv(n - 1) > 0 ? sv(0) / sv(n - 1) : std::numeric_limits<double>::infinity();
  if (std::isfinite(kappa)) f.condition_number = kappa;
  if (kappa <= L::kIllConditioned) return;
  Eigen::VectorXd v = svd.matrixV().col(n - 1);
  Eigen::Index big = 0;
  v.cwiseAbs().maxCoeff(&big);
  v /= v(big);  // the largest share +1: a 1% move of that parameter
  const Eigen::VectorXd moved = E * (0.01 * v);
  std::vector<std::string> names, steps;
  Json direction = Json::object();
  for (Eigen::Index j = 0; j < n; ++j) {
    if (std::abs(v(j)) < L::kCombinationShare) continue;
    const std::string& key = c.params[static_cast<size_t>(j)].key;
    names.push_back(key);
    steps.push_back(fmt::format("{} {}", key, percent(0.01 * v(j))));
    direction[key] = 0.01 * v(j);
  }
  std::string joined, moves;
  for (size_t k = 0; k < names.size(); ++k) joined += (k == 0 ? "" : k + 1 == names.size() ? " and " : ", ") + names[k];
  for (size_t k = 0; k < steps.size(); ++k) moves += (k == 0 ? "" : " with ") + steps[k];
  const std::string cond = std::isfinite(kappa) ? fmt::format("{:.3g}", kappa) : std::string("infinite");
  const double change = moved.cwiseAbs().maxCoeff();
  // "by more than 1.1e-16%" says nothing a reader can use: floor the figure.
  const std::string change_text = 100 * change < 1e-4 ? std::string("0.0001%") : fmt::format("{:.2g}%", 100 * change);
  f.diagnostics.push_back(
      {"parameters_not_separable",
       names.size() > 1
           ? fmt::format("parameters {} are not separately determined by these points: {} moves no point's {} by more "
                         "than {} (condition number {}, above {:g}); fit fewer of them, or add a point that "
                         "weighs them differently",
                         joined, moves, c.metric, change_text, cond, L::kIllConditioned)
           : fmt::format("parameter {} is not determined by these points: {} moves no point's {} by more than {} "
                         "(condition number {}, above {:g}); fix it, or add a point it moves",
                         joined, moves, c.metric, change_text, cond, L::kIllConditioned),
       {{"parameters", names},
        {"direction", direction},
        {"max_change", change},
        {"condition_number", std::isfinite(kappa) ? Json(kappa) : Json(nullptr)},
        {"threshold", L::kIllConditioned}}});
}

}  // namespace

FitResult fit_least_squares(const Calibration& c,
                            const std::function<std::vector<double>(const std::vector<double>&)>& simulate) {
  const auto n = static_cast<Eigen::Index>(c.params.size());
  const auto m = static_cast<Eigen::Index>(c.points.size());
  FitResult best;
  auto clamp = [&c](Eigen::Index j, double v) {
    return std::clamp(v, c.params[static_cast<size_t>(j)].min, c.params[static_cast<size_t>(j)].max);
  };
  auto residuals = [&](const Eigen::VectorXd& x, std::vector<double>* sim) {
    std::vector<double> v(x.data(), x.data() + x.size());
    *sim = simulate(v);
    best.simulations += static_cast<int>(m);
    Eigen::VectorXd r(m);
    for (Eigen::Index i = 0; i < m; ++i)
      r(i) = ((*sim)[static_cast<size_t>(i)] - c.points[static_cast<size_t>(i)].measured) /
             c.points[static_cast<size_t>(i)].measured;
    return r;
  };
  auto record = [&best](const Eigen::VectorXd& x, const std::vector<double>& sim, const Eigen::VectorXd& r) {
    best.values.assign(x.data(), x.data() + x.size());
    best.simulated = sim;
    best.residuals.assign(r.data(), r.data() + r.size());
  };
  // Forward differences, 2% of each value: simulated throughput is a sum
  // of discrete events, so steps must be well above its granularity. Near 0
  // the step keeps a floor of 1e-3 of the range, but never more than the
  // initial value: a cost given without a max has the parameter table's
  // 0..1e9 ns, whose floor (1e6 ns) made every step 20 us, a secant across
  // several times the cost instead of a derivative.
  auto jacobian = [&](const Eigen::VectorXd& x, const Eigen::VectorXd& r) {
    Eigen::MatrixXd J(m, n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const CalibrationParam& q = c.params[static_cast<size_t>(j)];
      double floor = 1e-3 * (q.max - q.min);
      if (q.initial != 0) floor = std::min(floor, std::abs(q.initial));
      const double scale = std::max(std::abs(x(j)), floor);
      double h = 0.02 * scale;
      if (x(j) + h > c.params[static_cast<size_t>(j)].max) h = -h;
      Eigen::VectorXd xh = x;
      xh(j) = clamp(j, x(j) + h);
      std::vector<double> ignored;
      J.col(j) = (residuals(xh, &ignored) - r) / (xh(j) - x(j));
    }
    return J;
  };
  Eigen::VectorXd x(n);
  for (Eigen::Index j = 0; j < n; ++j) x(j) = c.params[static_cast<size_t>(j)].initial;
  std::vector<double> sim;
  Eigen::VectorXd r = residuals(x, &sim);
  record(x, sim, r);
  Eigen::MatrixXd J;
  bool jacobian_at_x = false;  // J was taken at the current x (the fit ended without moving from it)
  best.stopped = "max_iterations";
  double lambda = 1e-2;  // Levenberg-Marquardt damping
  for (best.iterations = 0; best.iterations < c.max_iterations; ++best.iterations) {
    if (r.cwiseAbs().maxCoeff() <= c.tolerance) {
      best.stopped = "tolerance";
      break;
    }
    J = jacobian(x, r);
    jacobian_at_x = true;
    const Eigen::MatrixXd JtJ = J.transpose() * J;
    const Eigen::VectorXd g = J.transpose() * r;
    bool improved = false;
    for (int attempt = 0; attempt < 8 && !improved; ++attempt) {
      Eigen::MatrixXd A = JtJ;
      A.diagonal() += lambda * JtJ.diagonal().cwiseMax(1e-12);
      const Eigen::VectorXd step = A.ldlt().solve(-g);
      Eigen::VectorXd xn = x + step;
      for (Eigen::Index j = 0; j < n; ++j) xn(j) = clamp(j, xn(j));
      std::vector<double> simn;
      const Eigen::VectorXd rn = residuals(xn, &simn);
      if (rn.squaredNorm() < r.squaredNorm()) {
        x = xn;
        r = rn;
        sim = simn;
        record(x, sim, r);
        jacobian_at_x = false;
        lambda = std::max(lambda / 3.0, 1e-7);
        improved = true;
      } else {
        lambda *= 4.0;
      }
    }
    if (!improved) {  // no step reduces the misfit: a minimum that misses the tolerance
      best.stopped = "no_improvement";
      break;
    }
  }
  best.converged = r.cwiseAbs().maxCoeff() <= c.tolerance;
  if (best.converged) best.stopped = "tolerance";
  // The diagnostics need the Jacobian at the result; counted apart, so the
  // fit's own figures stay what they were.
  const int fit_simulations = best.simulations;
  if (!jacobian_at_x) J = jacobian(x, r);
  best.diagnostic_simulations = best.simulations - fit_simulations;
  best.simulations = fit_simulations;
  diagnose(c, J, best);
  return best;
}

int cmd_calibrate(const std::string& file, const std::string& out) {
  const Calibration c = load_calibration(file);
  if (!out.empty()) {
    if (fs::is_directory(out)) throw InputError(fmt::format("{}: --out: is a directory, expected a file name", out));
    check_output_dir(fs::path(out).parent_path(), "--out");
  }
  int failures = 0;
  auto simulate = [&](const std::vector<double>& values) {
    std::vector<double> result;
    for (const auto& p : c.points) {
      // The fitted values, then the point's own `set`: a point whose setup
      // fixes a fitted key (a device that is not the one the parameter
      // describes) keeps its value, and does not depend on that parameter.
      std::vector<std::string> o;
      for (size_t j = 0; j < values.size(); ++j) o.push_back(fmt::format("{}={:.17g}", c.params[j].key, values[j]));
      o.insert(o.end(), p.overrides.begin(), p.overrides.end());
      const RunOutcome run = run_in_child(load_scenario(p.scenario, o, o.size()), {});
      if (run.exit_code != 0) {
        ++failures;
        throw std::runtime_error(fmt::format("{}: the simulation failed (exit {})", p.scenario, run.exit_code));
      }
      const Json::json_pointer ptr(key_to_pointer(c.metric));
      if (!run.result.summary.contains(ptr) || !run.result.summary[ptr].is_number())
        throw InputError(fmt::format("{}: /metric: \"{}\" is not a number in summary.json", c.file, c.metric));
      result.push_back(run.result.summary[ptr].get<double>());
    }
    return result;
  };
  FitResult fit = fit_least_squares(c, simulate);
  // Parameters with a "step" are written as multiples of it; the points are
  // simulated again at the written values, and the table shows those.
  std::vector<std::string> rounded(c.params.size());
  if (fit.converged) {
    bool moved = false;
    for (size_t j = 0; j < c.params.size(); ++j) {
      const CalibrationParam& p = c.params[j];
      if (p.step <= 0) continue;
      const double r = std::clamp(std::round(fit.values[j] / p.step) * p.step, p.min, p.max);
      if (r == fit.values[j]) continue;
      rounded[j] = fmt::format("rounded to a multiple of {:g} from {:.6g}", p.step, fit.values[j]);
      fit.values[j] = r;
      moved = true;
    }
    if (moved) {
      fit.simulated = simulate(fit.values);
      fit.diagnostic_simulations += static_cast<int>(c.points.size());
      for (size_t i = 0; i < c.points.size(); ++i) {
        fit.residuals[i] = (fit.simulated[i] - c.points[i].measured) / c.points[i].measured;
        if (std::abs(fit.residuals[i]) > c.tolerance) fit.converged = false;
      }
      if (!fit.converged) fit.stopped = "rounding";
    }
  }

  // Stderr says what is wrong with the fit; stdout's table marks the rows.
  const std::string who = fmt::format("vringsim: calibrate {}", c.name);
  for (const FitDiagnostic& d : fit.diagnostics) std::cerr << fmt::format("{}: warning: {}\n", who, d.message);
  const size_t warnings = fit.diagnostics.size();
  const std::string outcome =
      fit.converged
          ? (warnings ? fmt::format("converged with {} warning{} (on stderr)", warnings, warnings == 1 ? "" : "s")
                      : std::string("converged"))
          : std::string("DID NOT CONVERGE");
  std::cout << fmt::format(
      "calibrate {}: {} point(s), {} parameter(s), metric {}; {} after {} iteration(s), {} "
      "simulations (+{} for the diagnostics)\n",
      c.name, c.points.size(), c.params.size(), c.metric, outcome, fit.iterations, fit.simulations,
      fit.diagnostic_simulations);
  std::map<std::string, std::string> param_note;  // parameter -> what the diagnostics say of it
  std::set<size_t> insensitive;
  for (const FitDiagnostic& d : fit.diagnostics) {
    if (d.kind == "parameter_at_bound")
      param_note[d.detail["parameter"]] =
          fmt::format("at its {} {:g}", d.detail["bound"].get<std::string>(), d.detail["bound_value"].get<double>());
    else if (d.kind == "point_insensitive")
      insensitive.insert(d.detail["point"].get<size_t>());
    else if (d.kind == "parameters_not_separable")
      for (const auto& k : d.detail["parameters"]) {
        std::string& note = param_note[k.get<std::string>()];
        note += (note.empty() ? "" : "; ") + std::string("not determined separately");
      }
  }
  std::cout << fmt::format("  {:<34} {:>14} {:>14}  {}\n", "parameter", "initial",
                           fit.converged ? "fitted" : "best found", "note");
  for (size_t j = 0; j < c.params.size(); ++j) {
    std::string note = param_note.contains(c.params[j].key) ? param_note[c.params[j].key] : "";
    if (!rounded[j].empty()) note += (note.empty() ? "" : "; ") + rounded[j];
    std::cout << fmt::format("  {:<34} {:>14.6g} {:>14.6g}  {}\n", c.params[j].key, c.params[j].initial, fit.values[j],
                             note.empty() ? "-" : note);
  }
  std::cout << fmt::format("  {:<44} {:>10} {:>10} {:>9} {:>10}  {}\n", "point", "measured", "simulated", "residual",
                           "elasticity", "set");
  for (size_t i = 0; i < c.points.size(); ++i) {
    std::string set;
    for (const auto& o : c.points[i].overrides) set += (set.empty() ? "" : " ") + o;
    std::cout << fmt::format("  {:<44} {:>10.4f} {:>10.4f} {:>+8.3f}% {:>9.3f}{}  {}\n",
                             fs::path(c.points[i].scenario).filename().string(), c.points[i].measured, fit.simulated[i],
                             100.0 * fit.residuals[i], fit.elasticity[i], insensitive.contains(i) ? "!" : " ",
                             set.empty() ? "-" : set);
  }
  if (!insensitive.empty())
    std::cout << fmt::format("  ! under {:g}: the parameters barely move this point\n",
                             fit_limits::kInsensitiveElasticity);
  if (fit.condition_number || c.params.size() > 1)
    std::cout << fmt::format(
        "  condition number of the elasticities: {} (the parameters are not separately determined above "
        "{:g})\n",
        fit.condition_number ? fmt::format("{:.3g}", *fit.condition_number) : "infinite", fit_limits::kIllConditioned);
  if (!fit.converged) {
    // Name what stopped it: the point furthest off, and any parameter a bound held.
    size_t worst = 0;
    for (size_t i = 1; i < c.points.size(); ++i)
      if (std::abs(fit.residuals[i]) > std::abs(fit.residuals[worst])) worst = i;
    std::string why = fmt::format(
        "did not converge ({}): the furthest point is {}, simulated {:.4g} against {:.4g} measured ({:+.3f}%, "
        "tolerance {:.3g}%)",
        fit.stopped == "max_iterations" ? fmt::format("max_iterations {} reached", c.max_iterations)
        : fit.stopped == "rounding"     ? std::string("the values rounded to their steps leave the tolerance")
                                        : std::string("no step reduced the misfit"),
        point_label(c, worst), fit.simulated[worst], c.points[worst].measured, 100 * fit.residuals[worst],
        100 * c.tolerance);
    for (const FitDiagnostic& d : fit.diagnostics)
      if (d.kind == "parameter_at_bound")
        why += fmt::format("; {} stopped at its {} {:g}", d.detail["parameter"].get<std::string>(),
                           d.detail["bound"].get<std::string>(), d.detail["bound_value"].get<double>());
    std::cerr << fmt::format("{}: {}\n", who, why);
    std::cout << fmt::format("  {}; nothing written\n", why);
    return kExitFailed;
  }
  if (!out.empty()) {
    Json preset{{"schema_version", 1}, {"kind", "vringsim-cost-preset"}, {"name", c.name}, {"costs", Json::object()}};
    if (!c.preset.empty()) preset = read_json_file(c.preset);  // the preset the fit updates, whole
    // Costs and latencies: what a preset carries (apply_cost_preset).
    for (size_t j = 0; j < c.params.size(); ++j) {
      if (!c.params[j].key.starts_with("costs.") && !c.params[j].key.starts_with("latency.")) continue;
      preset[Json::json_pointer(key_to_pointer(c.params[j].key))] = fit.values[j];
    }
    Json points = Json::array();
    for (size_t i = 0; i < c.points.size(); ++i)
      points.push_back({{"scenario", c.points[i].scenario},
                        {"set", c.points[i].set},
                        {"measured", c.points[i].measured},
                        {"simulated", fit.simulated[i]},
                        {"residual", fit.residuals[i]},
                        {"elasticity", fit.elasticity[i]}});
    Json diagnostics = Json::array();
    for (const FitDiagnostic& d : fit.diagnostics) {
      Json e = d.detail;
      e["kind"] = d.kind;
      e["message"] = d.message;
      diagnostics.push_back(std::move(e));
    }
    std::string text;
    {
      std::ifstream in(c.file, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    preset["fit"] = {{"measurements", c.file},
                     {"measurements_sha256", sha256_hex(text)},
                     {"metric", c.metric},
                     {"iterations", fit.iterations},
                     {"simulations", fit.simulations},
                     {"diagnostic_simulations", fit.diagnostic_simulations},
                     {"stopped", fit.stopped},
                     {"condition_number", fit.condition_number ? Json(*fit.condition_number) : Json(nullptr)},
                     {"points", points},
                     {"diagnostics", diagnostics}};
    if (!fs::path(out).parent_path().empty()) fs::create_directories(fs::path(out).parent_path());
    write_file_atomic(out, preset.dump(2) + "\n");
    if (!c.preset.empty())
      std::cout << fmt::format("  wrote {} (the preset {} names; a shipped preset takes effect when the program is "
                               "rebuilt)\n",
                               out, fs::path(c.file).filename().string());
    else
      std::cout << fmt::format("  wrote {} (use it with \"costs\": {{\"preset\": \"{}\"}})\n", out,
                             fs::path(out).filename().string());
  }
  return failures ? kExitFailed : kExitOk;
}

Command calibrate_command(CLI::App& app) {
  struct Args {
    std::string file, out;
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand(
      "calibrate", "fit named cost parameters to measured throughput (least squares, one simulation per evaluation)");
  cli->add_option("measurements", a->file, "measurement JSON file (see docs/guide/calibrating.md)")->required();
  cli->add_option("--out", a->out, "write the fitted costs here as a cost preset (costs.preset)");
  return {cli, [a] { return cmd_calibrate(a->file, a->out); }};
}

}  // namespace vringsim

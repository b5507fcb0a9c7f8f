// Is a sampled level still moving? A least-squares line through (t, y): its
// slope, and how much of y's variance it explains (R^2). A backlog that
// climbs through the whole measured window means the run has not reached
// steady state, whatever its averages say.
#pragma once

#include <cstddef>
#include <vector>

namespace vringsim {

struct Trend {
  double slope = 0;    ///< y units per t unit
  double r2 = 0;       ///< share of y's variance the line explains (0 when y is constant)
  size_t points = 0;
};

inline Trend fit_trend(const std::vector<double>& t, const std::vector<double>& y) {
  Trend tr;
  tr.points = t.size();
  if (t.size() < 3 || t.size() != y.size()) return tr;
  const double n = static_cast<double>(t.size());
  double mt = 0, my = 0;
  for (size_t i = 0; i < t.size(); ++i) mt += t[i], my += y[i];
  mt /= n;
  my /= n;
  double stt = 0, sty = 0, syy = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    stt += (t[i] - mt) * (t[i] - mt);
    sty += (t[i] - mt) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (stt <= 0) return tr;
  tr.slope = sty / stt;
  tr.r2 = syy > 0 ? (sty * sty) / (stt * syy) : 0;
  return tr;
}

}  // namespace vringsim

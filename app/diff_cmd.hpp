// vringsim diff A B: two result directories side by side, figure by figure
// (every summary.json under each, matched by its path: run folders of
// `run --out`, the runs of a sweep), with the relative change of each
// figure that moved. A regression gate for a user's own scenario set:
// exit 1 when a figure moved by more than --tolerance, or a run is on one
// side only.
#pragma once

#include <string>

namespace vringsim {

/// Exit code: 0 nothing moved beyond `tolerance` (relative), 1 something
/// did, 2 bad input (a directory that does not exist or holds no summary).
int cmd_diff(const std::string& a, const std::string& b, double tolerance, bool all);

}  // namespace vringsim

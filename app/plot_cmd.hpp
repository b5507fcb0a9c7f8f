// `vringsim plot INPUT --out DIR`: hands over to analysis/plot.py under
// Debian's /usr/bin/python3 (where python3-matplotlib and python3-pandas
// live). VRINGSIM_PYTHON and VRINGSIM_ANALYSIS_DIR override both paths.
#pragma once

#include <string>

#include "app/command.hpp"

namespace vringsim {

int cmd_plot(const std::string& input, const std::string& out, const std::string& formats);

/// `vringsim plot`: adds the command to `app` (app/command.hpp).
Command plot_command(CLI::App& app);

}  // namespace vringsim

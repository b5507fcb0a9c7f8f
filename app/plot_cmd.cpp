#include "app/plot_cmd.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/report.hpp"

#ifndef VRINGSIM_ANALYSIS_DIR
#define VRINGSIM_ANALYSIS_DIR "analysis"
#endif

namespace vringsim {

int cmd_plot(const std::string& input, const std::string& out, const std::string& formats) {
  const char* py_env = std::getenv("VRINGSIM_PYTHON");
  const char* dir_env = std::getenv("VRINGSIM_ANALYSIS_DIR");
  const std::string python = py_env && *py_env ? py_env : "/usr/bin/python3";
  const std::filesystem::path script =
      std::filesystem::path(dir_env && *dir_env ? dir_env : VRINGSIM_ANALYSIS_DIR) / "plot.py";
  if (!std::filesystem::exists(script)) {
    std::cerr << fmt::format("vringsim plot: {} not found (set VRINGSIM_ANALYSIS_DIR to the analysis/ directory)\n",
                             script.string());
    return kExitFailed;
  }
  // Bad paths are bad input, said in one line before Python starts (an --out
  // under a regular file once ended in an 11-line traceback).
  if (const std::string problem = not_a_regular_file(input);
      problem == "does not exist")
    throw InputError(fmt::format("{}: does not exist (a run or sweep directory, or its CSV)", input));
  check_output_dir(out, "--out");
  std::vector<std::string> args = {python, script.string(), input, "--out", out};
  if (!formats.empty()) {
    args.push_back("--format");
    args.push_back(formats);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  ::execv(python.c_str(), argv.data());
  // Only reached if the interpreter could not be started.
  std::cerr << fmt::format(
      "vringsim plot: cannot run {}: {} (scripts/setup.sh installs python3-matplotlib and python3-pandas)\n", python,
      std::strerror(errno));
  return kExitFailed;
}

Command plot_command(CLI::App& app) {
  struct Args {
    std::string input, out, formats;
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand("plot", "figures (PNG, SVG) from a run or sweep directory (analysis/plot.py)");
  cli->add_option("input", a->input, "run directory (run --out), sweep directory (sweep --out), or its CSV")
      ->required();
  cli->add_option("--out", a->out, "directory for the figures")->required();
  cli->add_option("--format", a->formats, "png,svg (default both)");
  return {cli, [a] { return cmd_plot(a->input, a->out, a->formats); }};
}

}  // namespace vringsim

// vringsim's command line: every command added (each in its app/*_cmd.cpp,
// its options beside what it runs), the command line parsed, and the
// command it names run, what that throws turned into a message and an exit
// code. Thin on purpose: the work is in sim/ (core, world) and models/
// (plug-ins).
//
// Exit codes (CONTRACT.md): 0 success; 1 some work failed; 2 bad input or
// usage, nothing run or written; 3 an invariant broke.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "app/analytic_cmd.hpp"
#include "app/calibrate_cmd.hpp"
#include "app/catalog_cmd.hpp"
#include "app/command.hpp"
#include "app/diff_cmd.hpp"
#include "app/exit_codes.hpp"
#include "app/inspect_cmd.hpp"
#include "app/plot_cmd.hpp"
#include "app/ring_size_cmd.hpp"
#include "app/run_cmd.hpp"
#include "app/schema_cmd.hpp"
#include "app/sensitivity_cmd.hpp"
#include "app/sweep_cmd.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/startup_stamp.hpp"
#include "sim/world/world.hpp"

using namespace vringsim;

namespace {

/// Levenshtein distance, for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The first word is not a command: says so, naming the nearest command
/// (two edits at most) if there is one.
bool unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return false;
  const std::string word = argv[1];
  std::string nearest;
  size_t best = 3;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == word) return false;
    const size_t d = edit_distance(word, sub->get_name());
    if (d < best) best = d, nearest = sub->get_name();
  }
  std::cerr << "vringsim: no command '" << word << "'"
            << (nearest.empty() ? std::string() : "; did you mean '" + nearest + "'?")
            << " (vringsim --help lists the commands)\n";
  return true;
}

/// --help and --version print and succeed; a usage error is one line, like
/// every other bad input (CLI11 adds a second, "Run with --help...").
int parse_error(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e) == 0 ? kExitOk : kExitBadInput;  // --help, --version
  std::string what = e.what();
  std::replace(what.begin(), what.end(), '\n', ' ');
  std::cerr << "vringsim: " << brief(what, 300) << " (vringsim --help lists the options)\n";
  return kExitBadInput;
}

/// Runs the command the command line named; what it throws becomes one line
/// on standard error and the exit code (CONTRACT.md "Exit codes").
int run_reporting_errors(const Command& command) {
  try {
    return command.run();
  } catch (const InputError& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  } catch (const InvariantError& e) {
    std::cerr << "vringsim: invariant broken: " << e.what() << "\n";
    return kExitInternal;
  } catch (const std::filesystem::filesystem_error& e) {
    // Our own checks come first; one that slipped through still gets one
    // short line, the paths quoted in at most 120 characters.
    std::string paths;
    for (const auto& p : {e.path1(), e.path2()})
      if (!p.empty()) paths += " [" + brief(p.string(), 120) + "]";
    std::cerr << "vringsim: " << e.code().message() << paths << "\n";
    return kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << "vringsim: " << brief(e.what(), 400) << "\n";
    return kExitFailed;
  }
}

}  // namespace

int main(int argc, char** argv) {
  startup_stamp("main");
  CLI::App app{"vringsim: a discrete-event simulator of virtio-net receive-ring buffering"};
  app.set_version_flag("--version", std::string("vringsim ") + version());
  app.require_subcommand(1);
  // Each adds its subcommand and options to `app`, in the order `vringsim
  // --help` lists them (a braced list is evaluated left to right).
  const std::vector<Command> commands = {
      run_command(app),      validate_command(app),   params_command(app),      policies_command(app),
      features_command(app), profiles_command(app),   presets_command(app),     sweep_command(app),
      merge_command(app),    trace_info_command(app), analytic_command(app),    calibrate_command(app),
      topology_command(app), diff_command(app),       sensitivity_command(app), ring_size_command(app),
      schema_command(app),   plot_command(app),
  };
  if (unknown_command(app, argc, argv)) return kExitBadInput;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_error(app, e);
  }
  for (const Command& command : commands)
    if (command.cli->parsed()) {
      const int code = run_reporting_errors(command);
      startup_stamp("command done");  // what follows is the exit: static destructors, libraries' finalisers
      return code;
    }
  return kExitBadInput;
}

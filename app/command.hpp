// One of vringsim's commands as main() sees it. Each command's file has a
// function `<name>_command(app)` that adds the command to the command line
// (its CLI11 subcommand, its options and the variables they fill, which the
// command owns) and returns what runs it; main() parses and runs the one the
// command line names.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

namespace CLI {
class App;
}

namespace vringsim {

struct Command {
  CLI::App* cli = nullptr;  ///< the subcommand: cli->parsed() when the command line names it
  /// Does the work, the options parsed; returns the exit code
  /// (app/exit_codes.hpp). Bad input throws InputError, a broken invariant
  /// InvariantError: main() turns those into a message and an exit code.
  std::function<int()> run;
};

/// A number on the command line: decimal digits only (no sign, no 0x, no
/// spaces), in lo..hi; else bad input quoting the text as given.
uint64_t parse_decimal(const std::string& option, const std::string& text, uint64_t lo, uint64_t hi);

/// The CPUs this process may use, and where that figure came from (for
/// `sweep --dry-run`).
std::pair<unsigned, const char*> default_jobs();

/// --jobs as typed: empty for default_jobs(), else a number in 1..4096.
unsigned jobs_option(const std::string& text);

}  // namespace vringsim

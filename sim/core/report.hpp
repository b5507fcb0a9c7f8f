// Results of a run and the report-writer plug-in interface. Writers (text
// table, summary.json, CSV...) register themselves (models/reports/); the
// core and the runner only iterate over the registry.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/params.hpp"

namespace vringsim {

struct RunResult {
  std::string name;
  Json summary;
  /// A run with a topology: each guest's figures (the summary's keys, and
  /// "queues": each receive queue's, by index), by guest name, written as
  /// guests.csv and queues.csv (one row each) rather than into summary.json,
  /// whose size would otherwise grow with the topology (4,096 guests x 16
  /// queues made a 162 MB summary and a runs.csv of 4 M columns).
  Json guests = Json::object();
  std::vector<std::string> guest_order;  ///< the guests' names in topology order
  std::vector<std::string> ts_columns;
  std::vector<std::vector<double>> ts_rows;  ///< empty when the rows were streamed or dropped
  std::string ts_file;                       ///< the streamed timeseries.csv, if it was streamed
  uint64_t ts_row_count = 0;                 ///< rows sampled, wherever they went
  bool ts_skip_idle = false;                 ///< timeseries.csv thins idle rows (measure.skip_idle_samples)
  /// What the run cost the engine, for bench/ (never in a report): events
  /// through the event bus, blocking calls into SimGrid, and the calls that
  /// suspended a task of the task loop (sim/engine/blocking.hpp).
  uint64_t bus_events = 0;
  uint64_t blocking_calls = 0;
  uint64_t loop_waits = 0;
};

/// timeseries.csv without the rows of a run of identical samples (equal
/// in every column but time_s) other than its first and last: lossless,
/// since forward-filling the grid restores them. Feed rows in time order;
/// `emit` receives those to write; finish() emits a held last row.
class IdleRowThinner {
 public:
  explicit IdleRowThinner(bool enabled) : enabled_(enabled) {}
  template <class Emit>
  void add(const std::vector<double>& row, Emit&& emit) {
    if (enabled_ && have_last_ && same_but_time(row, last_)) {
      held_ = row;  // the latest of the run, written if the run ends here
      return;
    }
    if (held_) emit(*held_), held_.reset();
    emit(row);
    last_ = row;
    have_last_ = true;
  }
  template <class Emit>
  void finish(Emit&& emit) {
    if (held_) emit(*held_), held_.reset();
  }

 private:
  static bool same_but_time(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 1; i < a.size(); ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  bool enabled_;
  bool have_last_ = false;
  std::vector<double> last_;
  std::optional<std::vector<double>> held_;
};

Json to_json(const RunResult& r);
RunResult run_result_from_json(const Json& j);

class ReportWriter {
 public:
  virtual ~ReportWriter() = default;
  /// Files for one run, in `run_dir` (DIR/<name>/).
  virtual void write_run(const std::filesystem::path& /*run_dir*/, const RunResult& /*r*/) const {}
  /// Files across the runs of one call, in `out_dir`.
  virtual void write_all(const std::filesystem::path& /*out_dir*/, const std::vector<RunResult>& /*rs*/) const {}
  /// Terminal output for the runs of one call.
  virtual void print(std::ostream& /*os*/, const std::vector<RunResult>& /*rs*/) const {}
  /// Also writes a sweep point's folder (beside its summary.json).
  virtual bool writes_sweep_points() const { return false; }
};

struct WriterInfo {
  std::string name;
  std::string description;
  std::function<std::unique_ptr<ReportWriter>()> create;
};

/// A per-event log of one run (`run --trace FILE`): it listens to the run's
/// signals and gives the file's text at the end. Formats register
/// themselves (models/reports/); the run names the one it was given.
class EventLog {
 public:
  virtual ~EventLog() = default;
  virtual void attach(Signals& run) = 0;
  /// The whole file.
  virtual std::string text() const = 0;
};

struct EventLogInfo {
  std::string name;
  std::string description;
  /// `limit`: rows at most; `queue_column`: the run has several receive queues.
  std::function<std::unique_ptr<EventLog>(uint64_t limit, bool queue_column)> create;
};

/// Flattens nested objects to dotted keys (CONTRACT.md: `ring.size`,
/// `buffers_per_packet.1`); arrays become their JSON text. Values are CSV
/// cell text (strings unquoted here).
std::vector<std::pair<std::string, std::string>> flatten(const Json& j);
/// flatten() of an object without its top-level key `skip` (and what is under it).
std::vector<std::pair<std::string, std::string>> flatten_except(const Json& j, std::string_view skip);
/// Column order shared by every CSV: natural order (digit runs compare as numbers).
bool natural_less(std::string_view a, std::string_view b);
/// The union of the rows' keys in natural order: a CSV's columns. Keys that
/// compare equal (numbers with and without leading zeros) are one column,
/// spelled as it first appears.
std::vector<std::string> natural_columns(const std::vector<std::vector<std::pair<std::string, std::string>>>& rows);
/// Rows of flattened keys as one CSV text: the `lead` columns first (row r's
/// cells for them in `lead_cells[r]`, or none if `lead` is empty), then the
/// natural_columns() of the rows' keys, a key a row lacks an empty cell
/// (among equal keys in a row, the first one wins). Sorts each row.
std::string csv_table(const std::vector<std::string>& lead, const std::vector<std::vector<std::string>>& lead_cells,
                      std::vector<std::vector<std::pair<std::string, std::string>>>& rows);
/// Quotes a CSV cell if it needs it (RFC 4180).
std::string csv_cell(const std::string& s);
/// One CSV line: cells quoted as needed, comma-separated, newline-terminated.
std::string csv_line(const std::vector<std::string>& cells);
/// Number text used in every CSV: integers as integers, others shortest round-trip.
std::string number_text(double v);
/// number_text(v) appended to `out` (a row of numbers needs no quoting: no
/// cell of its is built on its own).
void append_number_text(std::string& out, double v);

/// Bad input (InputError, exit 2) unless `dir` and every directory above it
/// either exist as directories or do not exist yet, and `dir` can be made
/// and written (a probe creates what is missing and a file, then removes
/// both); `what` names the option. Called before anything runs, so a bad
/// path never costs a run and a refusal leaves nothing behind.
void check_output_dir(const std::filesystem::path& dir, const std::string& what);
/// The same for an output file named by option `what` (`run --trace`,
/// `--csv`, `topology --out`): bad input if the name is empty (`--trace "":
/// expected a file name`) or a directory, or if check_output_dir refuses
/// its directory. Makes nothing; write_output_file makes the directory.
void check_output_file(const std::filesystem::path& file, const std::string& what);

/// True if `pid` (the digits after ".tmp." in a temporary's name, as
/// write_file_atomic and the run staging folders name them) is a process
/// that no longer exists: what it left behind may be removed.
bool left_by_dead_process(std::string_view pid);

/// Writes `content` to a temporary file beside `path`, then renames it over
/// `path`: readers never see a half-written file. Throws WriteError naming
/// the path on failure.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);
/// write_file_atomic for a file check_output_file accepted: makes its
/// directory first, as `run --out` makes its.
void write_output_file(const std::filesystem::path& path, const std::string& content);
/// Gives the file `from` (on the same file system) the name `to` once it is
/// on disk (fsync, then rename); on failure `from` is removed and `to` left
/// as it was. Throws WriteError "TO: write failed: ...".
void move_file_atomic(const std::filesystem::path& from, const std::filesystem::path& to);

/// Puts the directory `staged` (its files already on disk) at `dir` in one
/// step: a rename, or, when `dir` exists, an atomic exchange with it
/// (renameat2 RENAME_EXCHANGE) after which the old contents are removed.
/// Readers see the old directory or the new one, never a mix. Throws
/// WriteError naming `dir`.
void replace_dir_atomic(const std::filesystem::path& staged, const std::filesystem::path& dir);

}  // namespace vringsim

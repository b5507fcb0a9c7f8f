// Where the sampled rows go (timeseries.csv): kept in memory (tests, the
// API), streamed to a file as they are taken (run --out: memory stays
// constant however long the capture), or dropped (runs whose series nobody
// writes: run without --out, sweep points). In every case the rows that end
// up are the same: the last row taken is held back until the next one
// comes, so the run's end can replace a sample taken at its own instant.
//
// The steady-state judge needs five columns of the measured window (time,
// tap backlog, free descriptors, posted bytes, delivered packets): those are
// kept whatever the mode, 40 bytes a row.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/report.hpp"

namespace vringsim {

enum class TimeseriesMode { Keep, Stream, Discard };

class TimeseriesSink {
 public:
  /// `columns`: the header; `warmup_s`: where the measured window starts.
  /// Stream mode writes to `path` (throws std::runtime_error if it cannot).
  void open(TimeseriesMode mode, const std::string& path, std::vector<std::string> columns, double warmup_s,
            bool skip_idle);
  ~TimeseriesSink();

  /// A sampled row (time first). The previous one is committed.
  void offer(std::vector<double> row);
  /// Forgets the held-back row if it was taken at or after `end`.
  void drop_held_from(double end);
  /// Commits the held-back row and closes the file.
  void close();

  const std::vector<std::string>& columns() const { return columns_; }
  /// Keep mode: every committed row.
  std::vector<std::vector<double>>& rows() { return rows_; }
  uint64_t row_count() const { return count_; }
  /// Rows timeseries.csv holds (fewer than row_count() when idle rows are skipped).
  uint64_t rows_written() const { return written_; }
  /// The measured window's samples, for the steady-state judge.
  const std::vector<double>& window_t() const { return win_t_; }
  const std::vector<double>& window_tap() const { return win_tap_; }
  const std::vector<double>& window_free() const { return win_free_; }
  const std::vector<double>& window_posted() const { return win_posted_; }
  const std::vector<double>& window_delivered() const { return win_delivered_; }

 private:
  void commit(std::vector<double>& row);
  void write(const std::vector<double>& row);

  TimeseriesMode mode_ = TimeseriesMode::Keep;
  std::vector<std::string> columns_;
  double warmup_ = 0;
  size_t tap_col_ = 0, free_col_ = 0, posted_col_ = 0, delivered_col_ = 0;
  std::optional<std::vector<double>> held_;
  std::vector<std::vector<double>> rows_;
  uint64_t count_ = 0;
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string buffer_;
  std::vector<double> win_t_, win_tap_, win_free_, win_posted_, win_delivered_;
  IdleRowThinner thin_{false};
  uint64_t written_ = 0;
};

}  // namespace vringsim

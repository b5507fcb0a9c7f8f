#include "sim/world/timeseries.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "sim/core/errors.hpp"
#include "sim/core/report.hpp"

namespace vringsim {

namespace {
constexpr size_t kFlushBytes = 1 << 20;
}

void TimeseriesSink::open(TimeseriesMode mode, const std::string& path, std::vector<std::string> columns,
                          double warmup_s, bool skip_idle) {
  mode_ = mode;
  thin_ = IdleRowThinner(skip_idle);
  columns_ = std::move(columns);
  warmup_ = warmup_s;
  auto column = [this](const char* name) {
    return static_cast<size_t>(std::find(columns_.begin(), columns_.end(), name) - columns_.begin());
  };
  tap_col_ = column("tap_queue_packets");
  free_col_ = column("free_descriptors");
  posted_col_ = column("posted_bytes");
  delivered_col_ = column("delivered_packets");
  if (mode_ != TimeseriesMode::Stream) return;
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw WriteError(fmt::format("{}: cannot write the time series: {}", path, std::strerror(errno)));
  buffer_ = csv_line(columns_);
}

TimeseriesSink::~TimeseriesSink() {
  if (file_) std::fclose(file_);
}

void TimeseriesSink::offer(std::vector<double> row) {
  if (held_) commit(*held_);
  held_ = std::move(row);
}

void TimeseriesSink::drop_held_from(double end) {
  if (held_ && (*held_)[0] >= end) held_.reset();
}

void TimeseriesSink::commit(std::vector<double>& row) {
  ++count_;
  if (row[0] >= warmup_ && tap_col_ < row.size() && free_col_ < row.size() && posted_col_ < row.size() &&
      delivered_col_ < row.size()) {
    win_t_.push_back(row[0]);
    win_tap_.push_back(row[tap_col_]);
    win_free_.push_back(row[free_col_]);
    win_posted_.push_back(row[posted_col_]);
    win_delivered_.push_back(row[delivered_col_]);
  }
  thin_.add(row, [this](const std::vector<double>& r) { write(r); });
  if (mode_ == TimeseriesMode::Keep) rows_.push_back(std::move(row));
}

void TimeseriesSink::write(const std::vector<double>& row) {
  // A row timeseries.csv holds (the writer thins kept rows the same way).
  ++written_;
  if (mode_ != TimeseriesMode::Stream) return;
  // csv_line(number_text of each), written in place: numbers are never quoted.
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) buffer_ += ',';
    append_number_text(buffer_, row[i]);
  }
  buffer_ += '\n';
  if (buffer_.size() >= kFlushBytes) {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
      throw WriteError(fmt::format("{}: cannot write the time series: {}", path_, std::strerror(errno)));
    buffer_.clear();
  }
}

void TimeseriesSink::close() {
  if (held_) {
    commit(*held_);
    held_.reset();
  }
  thin_.finish([this](const std::vector<double>& r) { write(r); });
  if (!file_) return;
  const bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), file_) == buffer_.size() && std::fflush(file_) == 0;
  const int err = errno;
  std::fclose(file_);
  file_ = nullptr;
  buffer_.clear();
  if (!ok) throw WriteError(fmt::format("{}: cannot write the time series: {}", path_, std::strerror(err)));
}

}  // namespace vringsim

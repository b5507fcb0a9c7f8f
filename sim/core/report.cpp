#include "sim/core/report.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

#include "sim/core/errors.hpp"

namespace vringsim {

Json to_json(const RunResult& r) {
  return Json{{"name", r.name},         {"summary", r.summary}, {"ts_columns", r.ts_columns},
              {"ts_rows", r.ts_rows},   {"ts_file", r.ts_file}, {"ts_row_count", r.ts_row_count},
              {"ts_skip_idle", r.ts_skip_idle}, {"bus_events", r.bus_events},
              {"blocking_calls", r.blocking_calls}, {"loop_waits", r.loop_waits}, {"guests", r.guests}, {"guest_order", r.guest_order}};
}

RunResult run_result_from_json(const Json& j) {
  RunResult r;
  r.name = j.at("name").get<std::string>();
  r.summary = j.at("summary");
  r.ts_columns = j.at("ts_columns").get<std::vector<std::string>>();
  r.ts_rows = j.at("ts_rows").get<std::vector<std::vector<double>>>();
  r.ts_file = j.value("ts_file", std::string());
  r.ts_row_count = j.value("ts_row_count", uint64_t{0});
  r.ts_skip_idle = j.value("ts_skip_idle", false);
  r.bus_events = j.value("bus_events", uint64_t{0});
  r.blocking_calls = j.value("blocking_calls", uint64_t{0});
  r.loop_waits = j.value("loop_waits", uint64_t{0});
  r.guests = j.value("guests", Json::object());
  r.guest_order = j.value("guest_order", std::vector<std::string>{});
  return r;
}

std::string csv_table(const std::vector<std::string>& lead, const std::vector<std::vector<std::string>>& lead_cells,
                      std::vector<std::vector<std::pair<std::string, std::string>>>& rows) {
  const std::vector<std::string> keys = natural_columns(rows);
  std::vector<std::string> header = lead;
  header.insert(header.end(), keys.begin(), keys.end());
  std::string out = csv_line(header);
  std::vector<std::string> cells;
  for (size_t r = 0; r < rows.size(); ++r) {
    auto& row = rows[r];
    // By key only, keeping order among equal keys: the first one wins, as it did in a std::map.
    std::stable_sort(row.begin(), row.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    cells.clear();
    if (!lead.empty()) cells = lead_cells[r];
    for (const auto& c : keys) {
      auto it = std::lower_bound(row.begin(), row.end(), c,
                                 [](const auto& kv, const std::string& k) { return kv.first < k; });
      cells.push_back(it != row.end() && it->first == c ? it->second : std::string());
    }
    out += csv_line(cells);
  }
  return out;
}

std::string number_text(double v) {
  std::string s;
  append_number_text(s, v);
  return s;
}

void append_number_text(std::string& out, double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15)
    fmt::format_to(std::back_inserter(out), "{}", static_cast<int64_t>(v));
  else
    fmt::format_to(std::back_inserter(out), "{}", v);
}

namespace {
void flatten_into(const Json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten_into(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    return;
  }
  std::string text;
  if (j.is_string())
    text = j.get<std::string>();
  else if (j.is_number_float())
    text = number_text(j.get<double>());
  else
    text = j.dump();
  out.emplace_back(prefix, text);
}
}  // namespace

std::vector<std::pair<std::string, std::string>> flatten(const Json& j) {
  std::vector<std::pair<std::string, std::string>> out;
  flatten_into(j, "", out);
  return out;
}

std::vector<std::pair<std::string, std::string>> flatten_except(const Json& j, std::string_view skip) {
  if (!j.is_object()) return flatten(j);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != skip) flatten_into(it.value(), it.key(), out);
  return out;
}

bool natural_less(std::string_view a, std::string_view b) {
  // Column names share long prefixes ("guests.vm-006.queues.3."): a 128 x 4
  // run's runs.csv sorts 38,690 of them. Equal text compares equal under
  // natural order too, so start at the first difference, backed up to the
  // start of a digit run that straddles it ("x12" against "x1a" compares
  // the runs 12 and 1, not '2' and 'a').
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const size_t common = std::min(a.size(), b.size());
  size_t i = static_cast<size_t>(std::mismatch(a.data(), a.data() + common, b.data()).first - a.data());
  while (i > 0 && digit(a[i - 1])) --i;
  size_t j = i;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && digit(a[i2])) ++i2;
      while (j2 < b.size() && digit(b[j2])) ++j2;
      // Compare digit runs by value: strip leading zeros, then length, then text.
      std::string_view da(a.data() + i, i2 - i), db(b.data() + j, j2 - j);
      while (da.size() > 1 && da[0] == '0') da.remove_prefix(1);
      while (db.size() > 1 && db[0] == '0') db.remove_prefix(1);
      if (da.size() != db.size()) return da.size() < db.size();
      if (da != db) return da < db;
      i = i2;
      j = j2;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

namespace {
/// Each key's text once, in the order of its first appearance.
std::vector<std::string_view> first_appearances(
    const std::vector<std::vector<std::pair<std::string, std::string>>>& rows) {
  std::vector<std::string_view> keys;
  std::unordered_set<std::string_view> seen;
  for (const auto& row : rows)
    for (const auto& kv : row)
      if (seen.insert(kv.first).second) keys.push_back(kv.first);
  return keys;
}
}  // namespace

std::vector<std::string> natural_columns(const std::vector<std::vector<std::pair<std::string, std::string>>>& rows) {
  // Each text once, at its first appearance: rows mostly repeat the same
  // keys (queues.csv of 65,536 queues is 4 M keys for 61 columns, and
  // sorting them all was a quarter of the output's time).
  std::vector<std::string_view> keys = first_appearances(rows);
  // Stable: of keys that compare equal, the first to appear comes first and
  // names the column (as inserting them into a std::set did).
  std::stable_sort(keys.begin(), keys.end(), natural_less);
  std::vector<std::string> columns;
  for (size_t k = 0; k < keys.size(); ++k)
    if (k == 0 || natural_less(keys[k - 1], keys[k])) columns.emplace_back(keys[k]);
  return columns;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) line += ',';
    line += csv_cell(cells[i]);
  }
  line += '\n';
  return line;
}

void check_output_dir(const std::filesystem::path& dir_given, const std::string& what) {
  namespace fs = std::filesystem;
  const fs::path dir = dir_given.empty() ? fs::path(".") : dir_given;
  fs::path first_missing;  // the outermost directory the probe creates
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    std::error_code ec;
    const bool there = fs::exists(p, ec);
    if (there && !fs::is_directory(p, ec))
      throw InputError(fmt::format("{}: {}: {} is not a directory", dir.string(), what, p.string()));
    if (!there) first_missing = p;
    if (p == p.parent_path()) break;  // the root
  }
  // Can it be made and written? A probe makes what is missing and writes a
  // file there, then undoes both: a directory nobody can write is refused
  // before anything runs, in our words (the library's "filesystem error: ..."
  // came mid-run, exit 1), and a refusal leaves nothing behind.
  std::error_code ec;
  std::string problem;
  fs::create_directories(dir, ec);
  if (ec) {
    problem = ec.message();
  } else {
    const fs::path probe = dir / (".vringsim-probe." + std::to_string(::getpid()));
    if (FILE* f = std::fopen(probe.c_str(), "wb")) {
      std::fclose(f);
      fs::remove(probe, ec);
    } else {
      problem = std::strerror(errno);
    }
  }
  if (!first_missing.empty()) fs::remove_all(first_missing, ec);
  if (!problem.empty()) throw InputError(fmt::format("{}: {}: cannot write there ({})", dir.string(), what, problem));
}

void check_output_file(const std::filesystem::path& file, const std::string& what) {
  if (file.empty()) throw InputError(fmt::format("{} \"\": expected a file name", what));
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw InputError(fmt::format("{}: {}: is a directory, expected a file name", file.string(), what));
  check_output_dir(file.parent_path(), what);
}

bool left_by_dead_process(std::string_view pid) {
  if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string_view::npos) return false;
  return ::kill(static_cast<pid_t>(std::stol(std::string(pid))), 0) != 0 && errno == ESRCH;
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw WriteError(fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
  const size_t n = std::fwrite(content.data(), 1, content.size(), f);
  const bool ok = n == content.size() && std::fflush(f) == 0;
  const int err = errno;
  std::fclose(f);
  if (!ok) {
    std::filesystem::remove(tmp);
    throw WriteError(fmt::format("{}: write failed: {}", path.string(), std::strerror(err)));
  }
  move_file_atomic(tmp, path);  // fsync, then the name
}

void write_output_file(const std::filesystem::path& path, const std::string& content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  write_file_atomic(path, content);
}

void move_file_atomic(const std::filesystem::path& from, const std::filesystem::path& to) {
  // As write_file_atomic: on disk before it takes its name, or not at all.
  FILE* f = std::fopen(from.c_str(), "rb");
  if (!f) throw WriteError(fmt::format("{}: cannot write: {}", to.string(), std::strerror(errno)));
  const bool ok = ::fsync(fileno(f)) == 0;
  const int err = errno;
  std::fclose(f);
  if (!ok) {
    std::filesystem::remove(from);
    throw WriteError(fmt::format("{}: write failed: {}", to.string(), std::strerror(err)));
  }
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  if (ec) {
    std::filesystem::remove(from);
    throw WriteError(fmt::format("{}: cannot rename into place: {}", to.string(), ec.message()));
  }
}

void replace_dir_atomic(const std::filesystem::path& staged, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::rename(staged, dir, ec);
    if (ec) throw WriteError(fmt::format("{}: cannot rename into place: {}", dir.string(), ec.message()));
    return;
  }
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staged, ec);  // now the old contents
    return;
  }
  // A file system without RENAME_EXCHANGE: move the old one aside first
  // (for a moment `dir` is absent, never mixed).
  const fs::path old = staged.string() + ".old";
  fs::rename(dir, old, ec);
  if (!ec) fs::rename(staged, dir, ec);
  if (ec) throw WriteError(fmt::format("{}: cannot rename into place: {}", dir.string(), ec.message()));
  fs::remove_all(old, ec);
}

}  // namespace vringsim

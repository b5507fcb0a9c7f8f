#include "sim/world/sweep_runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>

#include <Eigen/Dense>
#include <boost/math/distributions/students_t.hpp>

#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"
#include "sim/world/world.hpp"

namespace vringsim {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

fs::path rep_dir(const fs::path& out, const std::string& id, uint32_t rep) {
  return out / "points" / id / fmt::format("rep-{}", rep);
}

Json sweep_json(const Sweep& sw, const SweepOptions& opt) {
  Json j = {{"schema_version", 1},
            {"name", sw.name},
            {"file", sw.file},
            {"version", version()},
            {"sweep_sha256", sw.sha256},
            {"replications", sw.replications},
            {"seed", sw.seed},
            {"overrides", sw.overrides},
            {"shard", opt.shard ? Json(fmt::format("{}/{}", opt.shard->first, opt.shard->second)) : Json(nullptr)},
            {"points", Json::array()}};
  for (const auto& p : sw.points) {
    Json seeds = Json::array();
    for (uint32_t r = 0; r < sw.replications; ++r) seeds.push_back(sw.seed_of(p, r));
    j["points"].push_back({{"index", p.index}, {"id", p.id}, {"values", p.values}, {"seeds", seeds}});
  }
  return j;
}

/// What a sweep.json's "shard" says, in words: "shard 1/3", or "the whole
/// sweep" (null: an unsharded sweep, or a merge).
std::string shard_words(const Json& shard) {
  if (shard.is_null()) return "the whole sweep";
  return "shard " + (shard.is_string() ? brief(shard.get<std::string>(), 40) : brief(shard.dump(), 40));
}

/// "shard 1/3 of sweep NAME" or "the whole sweep NAME".
std::string shard_of_sweep(const Json& shard, const std::string& name) {
  return shard.is_null() ? "the whole sweep " + name : shard_words(shard) + " of sweep " + name;
}

/// A sweep.json's name, for messages ("?" when it has none).
std::string name_of(const Json& sj) {
  return sj.is_object() && sj.contains("name") && sj["name"].is_string() ? brief(sj["name"].get<std::string>(), 80)
                                                                          : "?";
}

/// DIR/sweep.json as a sweep or merge finds it: null if there is none,
/// refused if it describes another sweep.
Json sweep_json_in(const fs::path& out, const std::string& sha) {
  check_output_dir(out, "--out");
  const fs::path sj = out / "sweep.json";
  if (!fs::exists(sj)) return nullptr;
  Json old = read_json_file(sj.string());
  if (!old.is_object() || old.value("sweep_sha256", std::string()) != sha)
    throw InputError(fmt::format("{}: holds a different sweep ({}; this one is {}): use another --out", out.string(),
                                 name_of(old), sha.substr(0, 12)));
  if (!old.contains("shard")) old["shard"] = nullptr;
  return old;
}

/// DIR/sweep.json must be absent or describe the same sweep and the same
/// shard. A shard run into another shard's folder once relabelled it, and
/// merge then left out the first shard's runs, which were on disk: an --out
/// holds one shard (or the whole sweep), resumed by the same command.
void check_out_dir(const fs::path& out, const Sweep& sw, const Json& shard) {
  const Json old = sweep_json_in(out, sw.sha256);
  if (old.is_null() || old["shard"] == shard) return;
  throw InputError(fmt::format("{}: --out: holds {}, not {}: give each shard its own --out and combine them with "
                               "vringsim merge",
                               out.string(), shard_of_sweep(old["shard"], brief(sw.name, 80)), shard_words(shard)));
}

/// True when a run's flattened summary has `key` set to false.
bool flag_is_false(const std::map<std::string, std::string>& row, const std::string& key) {
  const auto it = row.find(key);
  return it != row.end() && it->second == "false";
}

/// Mean and 95% confidence interval (Student t, n - 1 degrees of freedom)
/// over a point's replications of every figure that is numeric in all of
/// them. One row per point: its id, n, each axis's value (strings too), then
/// `<key>.mean` and `<key>.ci95` (the half-width, empty with a single
/// replication). The configuration and provenance are inputs, the same in
/// every replication by construction: no mean, no interval.
std::string aggregate_csv(const Json& sj, const std::vector<std::string>& head,
                          const std::vector<std::map<std::string, std::string>>& rows) {
  std::vector<std::string> axes;
  for (const auto& p : sj["points"])
    for (const auto& [k, v] : p["values"].items())
      if (std::find(axes.begin(), axes.end(), k) == axes.end()) axes.push_back(k);
  std::vector<std::string> metrics;
  for (size_t c = 3; c < head.size(); ++c) {
    if (head[c].starts_with("config.") || head[c].starts_with("provenance.")) continue;
    bool numeric = !rows.empty();
    for (const auto& row : rows) {
      auto it = row.find(head[c]);
      char* end = nullptr;
      if (it == row.end() || it->second.empty() || (std::strtod(it->second.c_str(), &end), *end != 0)) {
        numeric = false;
        break;
      }
    }
    if (numeric) metrics.push_back(head[c]);
  }
  std::vector<std::string> out_head = {"point_id", "n"};
  out_head.insert(out_head.end(), axes.begin(), axes.end());
  for (const auto& m : metrics) {
    out_head.push_back(m + ".mean");
    out_head.push_back(m + ".ci95");
  }
  // Replications whose figures are not steady-state results, or no results at all.
  out_head.push_back("runs_unsteady");
  out_head.push_back("runs_invalid");
  const bool partial = sj.value("partial", false);  // merge --partial: shards or runs are missing
  if (partial) out_head.push_back("partial");
  std::string csv = csv_line(out_head);
  for (const auto& p : sj["points"]) {
    std::vector<const std::map<std::string, std::string>*> reps;
    for (const auto& row : rows)
      if (row.at("point_id") == p["id"].get<std::string>()) reps.push_back(&row);
    if (reps.empty()) continue;
    const auto n = static_cast<Eigen::Index>(reps.size());
    Eigen::MatrixXd x(n, static_cast<Eigen::Index>(metrics.size()));
    for (Eigen::Index r = 0; r < n; ++r)
      for (size_t m = 0; m < metrics.size(); ++m)
        x(r, static_cast<Eigen::Index>(m)) = std::stod(reps[static_cast<size_t>(r)]->at(metrics[m]));
    const Eigen::RowVectorXd mean = x.colwise().mean();
    std::vector<std::string> cells = {p["id"].get<std::string>(), std::to_string(n)};
    for (const auto& a : axes) {
      const Json v = p["values"].value(a, Json());
      cells.push_back(v.is_null() ? std::string() : v.is_string() ? v.get<std::string>() : v.dump());
    }
    const double t =
        n > 1
            ? boost::math::quantile(boost::math::complement(boost::math::students_t(static_cast<double>(n - 1)), 0.025))
            : 0.0;
    for (size_t m = 0; m < metrics.size(); ++m) {
      const auto col = static_cast<Eigen::Index>(m);
      cells.push_back(number_text(mean(col)));
      if (n > 1) {
        const double var = (x.col(col).array() - mean(col)).square().sum() / static_cast<double>(n - 1);
        cells.push_back(number_text(t * std::sqrt(var / static_cast<double>(n))));
      } else {
        cells.emplace_back();
      }
    }
    size_t unsteady = 0, invalid = 0;
    for (const auto* rep : reps) {
      unsteady += flag_is_false(*rep, "measure.steady");
      invalid += flag_is_false(*rep, "measure.valid");
    }
    cells.push_back(std::to_string(unsteady));
    cells.push_back(std::to_string(invalid));
    if (partial) cells.emplace_back("true");
    csv += csv_line(cells);
  }
  return csv;
}

/// Runs whose figures are not results: not in steady state, or nothing measured.
struct SweepHealth {
  size_t runs = 0;
  std::vector<std::string> unsteady, invalid;  ///< one point id per such run
};

/// Says on stderr which runs are not steady-state results (the table marks
/// their points, aggregate.csv counts them per point).
void warn_about(const SweepHealth& h) {
  auto points = [](const std::vector<std::string>& ids) {
    std::vector<std::string> unique;
    for (const auto& id : ids)
      if (std::find(unique.begin(), unique.end(), id) == unique.end()) unique.push_back(id);
    std::string list;
    for (size_t i = 0; i < unique.size() && i < 5; ++i) list += (i ? ", " : "") + unique[i];
    if (unique.size() > 5) list += fmt::format(" and {} more", unique.size() - 5);
    return fmt::format("point{} {}", unique.size() > 1 ? "s" : "", list);
  };
  if (!h.unsteady.empty())
    std::cerr << fmt::format("sweep: warning: {} of {} runs not in steady state ({}): lengthen stop.time_s and "
                             "measure.warmup_s; results.csv measure.steady_problem says what still moved\n",
                             h.unsteady.size(), h.runs, points(h.unsteady));
  if (!h.invalid.empty())
    std::cerr << fmt::format("sweep: warning: nothing measured in {} of {} runs ({}): their figures are not "
                             "results; results.csv measure.problem says why\n",
                             h.invalid.size(), h.runs, points(h.invalid));
}

/// results.csv (and failures.csv) from the run directories, in point and
/// replication order: the same files whatever order runs finished in. Says
/// which runs are not steady-state results.
SweepHealth write_results(const fs::path& out, const Json& sj) {
  SweepHealth health;
  std::vector<std::map<std::string, std::string>> rows;
  std::vector<std::vector<std::pair<std::string, std::string>>> flat;  // each row as flattened: its columns
  std::vector<std::vector<std::string>> failures;
  for (const auto& p : sj["points"]) {
    const std::string id = p["id"];
    for (uint32_t r = 0; r < p["seeds"].size(); ++r) {
      const fs::path d = rep_dir(out, id, r);
      if (fs::exists(d / "summary.json")) {
        auto keys = flatten(read_summary_file((d / "summary.json").string()));
        std::map<std::string, std::string> row;
        for (const auto& [k, v] : keys) row.emplace(k, v);  // the first of equal keys stays
        flat.push_back(std::move(keys));
        if (flag_is_false(row, "measure.valid"))
          health.invalid.push_back(id);
        else if (flag_is_false(row, "measure.steady"))
          health.unsteady.push_back(id);
        row["point_id"] = id;
        row["rep"] = std::to_string(r);
        row["seed"] = p["seeds"][r].dump();
        rows.push_back(std::move(row));
      } else if (fs::exists(d / "failed.json")) {
        const Json f = read_json_file((d / "failed.json").string());
        failures.push_back({id, std::to_string(r), p["seeds"][r].dump(), f.value("reason", std::string()),
                            f.value("stderr_tail", std::string())});
      }
    }
  }
  std::vector<std::string> head = {"point_id", "rep", "seed"};
  const std::vector<std::string> columns = natural_columns(flat);
  head.insert(head.end(), columns.begin(), columns.end());
  std::string csv = csv_line(head);
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const auto& c : head) {
      auto it = row.find(c);
      cells.push_back(it == row.end() ? std::string() : it->second);
    }
    csv += csv_line(cells);
  }
  write_file_atomic(out / "results.csv", csv);
  write_file_atomic(out / "aggregate.csv", aggregate_csv(sj, head, rows));
  if (!failures.empty()) {
    std::string f = csv_line({"point_id", "rep", "seed", "reason", "stderr_tail"});
    for (const auto& row : failures) f += csv_line(row);
    write_file_atomic(out / "failures.csv", f);
  } else if (fs::exists(out / "failures.csv")) {
    fs::remove(out / "failures.csv");
  }
  health.runs = rows.size();
  return health;
}

std::string tail_of(const fs::path& file, size_t bytes) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

/// How a run's child says, on its stderr.txt, that an output could not be written.
constexpr std::string_view kWriteFailure = "write failure: ";

/// The last write failure a run's stderr.txt reports, without the prefix:
/// "DIR/points/ID/rep-K/summary.json: write failed: No space left on device".
std::optional<std::string> write_failure_in(const fs::path& stderr_txt) {
  std::ifstream in(stderr_txt);
  std::optional<std::string> found;
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(kWriteFailure)) found = brief(line.substr(kWriteFailure.size()), 400);
  return found;
}

struct Task {
  const SweepPoint* point;
  uint32_t rep;
  fs::path dir;
};

/// Runs one scenario in this (child) process, writing into `dir`.
[[noreturn]] void child_run(const Sweep& sw, const Task& t) {
  const int fd = ::open((t.dir / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    ::dup2(fd, 2);
    ::close(fd);
  }
  int code = 0;
  try {
    const Scenario s = sw.scenario(*t.point, t.rep);
    RunOptions opt;
    opt.timeseries = TimeseriesMode::Discard;  // a point's files are its summary
    const RunResult r = run_scenario(s, opt);
    // What a registered report writes per point (a topology's guests.csv),
    // then the summary, whose presence marks the point done.
    for (const WriterInfo* w : Registry<WriterInfo>::instance().all())
      if (const auto writer = w->create(); writer->writes_sweep_points()) writer->write_run(t.dir, r);
    write_file_atomic(t.dir / "summary.json", r.summary.dump(2) + "\n");
  } catch (const InvariantError& e) {
    std::cerr << "invariant broken: " << e.what() << "\n";
    code = kExitInternal;
  } catch (const WriteError& e) {
    // A full disk is a run that failed (exit code 1), not a broken invariant
    // (it was logged as exit code 3). The parent reads this line back.
    std::cerr << kWriteFailure << e.what() << "\n";
    code = kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    code = 3;
  }
  std::cerr.flush();
  ::_exit(code);
}

/// A table of the points run: delivered Gb/s and drops, mean ± 95% CI.
void print_summary(const fs::path& out, const std::vector<const SweepPoint*>& mine) {
  std::ifstream in(out / "aggregate.csv");
  std::string line;
  std::getline(in, line);
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::stringstream ss(l);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (!l.empty() && l.back() == ',') cells.emplace_back();
    return cells;
  };
  const std::vector<std::string> head = split(line);
  auto find = [&](const std::string& name) -> int {
    for (size_t i = 0; i < head.size(); ++i)
      if (head[i] == name) return static_cast<int>(i);
    return -1;
  };
  // Drops over the window the Gb/s covers; results of a vringsim that had no
  // throughput.dropped_packets give the whole run's, and the header says so.
  const int g = find("throughput.delivered_gbps.mean");
  const int measured_drops = find("throughput.dropped_packets.mean");
  const int d = measured_drops >= 0 ? measured_drops : find("packets.dropped.mean");
  const char* dropped_title = measured_drops >= 0 ? "dropped (measured)" : "dropped (whole run)";
  const int unsteady = find("runs_unsteady"), invalid = find("runs_invalid");
  if (g < 0 || d < 0) return;
  std::map<std::string, std::vector<std::string>> by_id;
  while (std::getline(in, line)) {
    auto cells = split(line);
    if (!cells.empty()) by_id[cells[0]] = cells;
  }
  std::cout << fmt::format("{:<16} {:>3}  {:>17}  {:>21}  {}\n", "point", "n", "delivered Gb/s", dropped_title,
                           "values");
  bool any_invalid = false, any_unsteady = false;
  for (const auto* p : mine) {
    auto it = by_id.find(p->id);
    if (it == by_id.end()) continue;
    const auto& c = it->second;
    auto pm = [&](int mean, int prec) {
      const double m = std::stod(c[static_cast<size_t>(mean)]);
      const std::string& ci = c[static_cast<size_t>(mean) + 1];
      return ci.empty() ? fmt::format("{:.{}f}", m, prec)
                        : fmt::format("{:.{}f} ± {:.{}f}", m, prec, std::stod(ci), prec);
    };
    auto some = [&c](int at) { return at >= 0 && c[static_cast<size_t>(at)] != "0"; };
    const char* mark = some(invalid) ? " *" : some(unsteady) ? " ~" : "";
    any_invalid = any_invalid || some(invalid);
    any_unsteady = any_unsteady || (some(unsteady) && !some(invalid));
    std::cout << fmt::format("{:<16} {:>3}  {:>17}  {:>21}  {}\n", p->id + mark, c[1], pm(g, 3), pm(d, 0),
                             p->values.dump());
  }
  if (any_invalid) std::cout << "* nothing measured in some replications (aggregate.csv runs_invalid)\n";
  if (any_unsteady) std::cout << "~ some replications not in steady state (aggregate.csv runs_unsteady)\n";
}

}  // namespace

namespace {

std::vector<const SweepPoint*> points_of_shard(const Sweep& sw, const SweepOptions& opt) {
  std::vector<const SweepPoint*> mine;
  for (const auto& p : sw.points)
    if (!opt.shard || p.index % opt.shard->second == opt.shard->first - 1) mine.push_back(&p);
  return mine;
}

void print_dry_run(const Sweep& sw, const SweepOptions& opt, const std::vector<const SweepPoint*>& mine) {
  for (const auto* p : mine) std::cout << fmt::format("{:>5}  {}  {}\n", p->index, p->id, p->values.dump());
  std::cout << fmt::format(
      "{} points x {} replications = {} runs{}\n", mine.size(), sw.replications, mine.size() * sw.replications,
      opt.shard ? fmt::format(" (shard {}/{} of {} points)", opt.shard->first, opt.shard->second, sw.points.size())
                : "");
  std::cout << fmt::format("jobs: {} (from {})\n", opt.jobs, opt.jobs_from);
}

/// Runs a sweep's remaining runs, --jobs child processes at a time, each
/// killed past its timeout; records failures; reports progress on stderr.
class Scheduler {
 public:
  Scheduler(const Sweep& sw, const SweepOptions& opt, const std::vector<const SweepPoint*>& mine)
      : sw_(sw), jobs_(std::max(1u, opt.jobs)), tty_(::isatty(2)), t0_(Clock::now()) {
    for (const auto* p : mine)
      for (uint32_t r = 0; r < sw.replications; ++r) {
        const fs::path d = rep_dir(opt.out, p->id, r);
        if (fs::exists(d / "summary.json"))
          ++done_before_;  // a resumed sweep skips what is done
        else
          left_.push_back({p, r, d});
      }
    total_ = done_before_ + left_.size();
    finished_ = done_before_;
  }

  /// Returns the number of runs that failed.
  size_t run() {
    std::cout.flush();
    std::cerr.flush();
    while (next_ < left_.size() || !running_.empty()) {
      start_runs();
      if (reap_one()) continue;
      kill_overdue();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return failed_;
  }
  size_t total() const { return total_; }
  size_t done_before() const { return done_before_; }

 private:
  struct Running {
    size_t task;
    Clock::time_point start;
  };

  void start_runs() {
    while (running_.size() < jobs_ && next_ < left_.size()) {
      const Task& t = left_[next_];
      fs::create_directories(t.dir);
      fs::remove(t.dir / "failed.json");
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("fork() failed");
      if (pid == 0) child_run(sw_, t);
      running_[pid] = {next_++, Clock::now()};
    }
  }

  bool reap_one() {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0 || !running_.count(pid)) return false;
    const Running r = running_[pid];
    running_.erase(pid);
    const Task& t = left_[r.task];
    const double secs = std::chrono::duration<double>(Clock::now() - r.start).count();
    ++finished_;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(t.dir / "summary.json")) {
      report(t, "ok", secs);
      return true;
    }
    ++failed_;
    std::string reason;
    if (WIFSIGNALED(status))
      reason = WTERMSIG(status) == SIGKILL && sw_.timeout_s > 0 && secs >= sw_.timeout_s
                   ? fmt::format("timed out after {} s", sw_.timeout_s)
                   : fmt::format("killed by signal {}", WTERMSIG(status));
    else
      reason = fmt::format("exit code {}", WEXITSTATUS(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) == kExitFailed)
      if (const auto what = write_failure_in(t.dir / "stderr.txt")) reason += ", write failure: " + *what;
    write_file_atomic(t.dir / "failed.json",
                      Json{{"reason", reason}, {"stderr_tail", tail_of(t.dir / "stderr.txt", 2000)}}.dump(2) + "\n");
    report(t, "FAILED: " + reason, secs);
    return true;
  }

  void kill_overdue() const {
    if (sw_.timeout_s <= 0) return;
    for (const auto& [p, r] : running_)
      if (std::chrono::duration<double>(Clock::now() - r.start).count() > sw_.timeout_s) ::kill(p, SIGKILL);
  }

  void report(const Task& t, const std::string& what, double secs) const {
    const double minutes = std::chrono::duration<double>(Clock::now() - t0_).count() / 60;
    const double rate = minutes > 0 ? static_cast<double>(finished_ - done_before_) / minutes : 0;
    if (tty_) {
      const int width = 30;
      const int filled = static_cast<int>(width * finished_ / std::max<size_t>(total_, 1));
      const double eta = rate > 0 ? static_cast<double>(total_ - finished_) / rate * 60 : 0;
      std::cerr << fmt::format("\r[{}{}] {}/{} done, {} failed, {:.1f} runs/min, ETA {:.0f} s   ",
                               std::string(filled, '#'), std::string(width - filled, '.'), finished_, total_,
                               failed_, rate, eta);
      if (finished_ == total_) std::cerr << "\n";
    } else {
      std::cerr << fmt::format("sweep: {}/{} {} rep {}: {} ({:.2f} s)\n", finished_, total_, t.point->id, t.rep, what,
                               secs);
    }
  }

  const Sweep& sw_;
  const unsigned jobs_;
  const bool tty_;
  const Clock::time_point t0_;
  std::vector<Task> left_;
  size_t done_before_ = 0, total_ = 0, finished_ = 0, failed_ = 0, next_ = 0;
  std::map<pid_t, Running> running_;
};

}  // namespace

namespace {

/// Temporaries (FILE.tmp.PID, write_file_atomic) that a killed sweep left:
/// a resume removes those whose process is gone (SIGKILL left them for good).
void remove_stale_temporaries(const fs::path& out) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(out, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string name = it->path().filename().string();
    const auto dot = name.rfind(".tmp.");
    if (dot == std::string::npos) continue;
    if (left_by_dead_process(std::string_view(name).substr(dot + 5))) fs::remove(it->path(), ec);
  }
}

}  // namespace

int run_sweep(const Sweep& sw, const SweepOptions& opt) {
  const std::vector<const SweepPoint*> mine = points_of_shard(sw, opt);
  if (opt.dry_run) {
    print_dry_run(sw, opt, mine);
    return 0;
  }
  const Json sj = sweep_json(sw, opt);
  check_out_dir(opt.out, sw, sj["shard"]);
  load_engine();  // before anything is written: a missing engine leaves no half-made folder
  fs::create_directories(opt.out);
  remove_stale_temporaries(opt.out);
  write_file_atomic(opt.out / "sweep.json", sj.dump(2) + "\n");
  Scheduler scheduler(sw, opt, mine);
  // A rerun into the same folder skips what is done: say how much, before the progress.
  if (scheduler.done_before())
    std::cerr << fmt::format("sweep: resuming {}: {} of {} runs already done, {} to run\n", opt.out.string(),
                             scheduler.done_before(), scheduler.total(), scheduler.total() - scheduler.done_before());
  const size_t failed = scheduler.run();
  const SweepHealth health = write_results(opt.out, sj);
  print_summary(opt.out, mine);
  warn_about(health);
  if (failed)
    std::cerr << fmt::format("sweep: {} of {} runs failed (see {})\n", failed, scheduler.total(),
                             (opt.out / "failures.csv").string());
  return failed ? 1 : 0;
}

namespace {

/// One shard directory, checked whole before merge writes anything.
struct ShardDir {
  fs::path dir;
  Json sweep;                          ///< its sweep.json
  std::optional<std::pair<uint32_t, uint32_t>> shard;  ///< (K, N); none: the whole sweep
  std::vector<fs::path> ended;         ///< rep dirs of runs that ended: a summary.json or a failed.json
};

/// Reads DIR/sweep.json and checks the fields merge relies on, naming the
/// file and pointer of the first that is wrong.
Json read_sweep_json(const fs::path& dir) {
  const fs::path file = dir / "sweep.json";
  if (!fs::exists(file)) fail_input(dir.string(), "", "not a sweep directory (no sweep.json)");
  const std::string f = file.string();
  const Json sj = read_json_file(f);
  if (!sj.is_object()) fail_input(f, "", "expected the object `vringsim sweep` writes");
  if (!sj.contains("sweep_sha256") || !sj["sweep_sha256"].is_string()) fail_input(f, "/sweep_sha256", "missing");
  if (!sj.contains("points") || !sj["points"].is_array()) fail_input(f, "/points", "expected the list of points");
  for (size_t i = 0; i < sj["points"].size(); ++i) {
    const Json& p = sj["points"][i];
    const std::string ptr = fmt::format("/points/{}", i);
    if (!p.is_object() || !p.contains("id") || !p["id"].is_string() || !p.contains("index") ||
        !p["index"].is_number_unsigned() || !p.contains("seeds") || !p["seeds"].is_array())
      fail_input(f, ptr, "expected a point with \"index\", \"id\" and \"seeds\"");
    const std::string id = p["id"];
    // Ids are "p" and 12 hex digits (sweep.cpp); anything else could name a
    // path outside the shard (a slash, "..") or one too long to stat.
    if (id.size() != 13 || id[0] != 'p' || id.find_first_not_of("0123456789abcdef", 1) != std::string::npos)
      fail_input(f, ptr + "/id", fmt::format("\"{}\" is not a point id (p and 12 hex digits)", brief(id, 40)));
  }
  if (sj.contains("shard") && !sj["shard"].is_null() && !sj["shard"].is_string())
    fail_input(f, "/shard", "expected \"K/N\" or null");
  return sj;
}

}  // namespace

namespace {

/// What a set of shard directories holds, checked whole before anything is written.
struct MergeInputs {
  std::vector<ShardDir> shards;
  std::vector<std::string> missing_shards;  ///< "K/N" of shards not given
  std::vector<std::string> missing_runs;    ///< summary.json files a given shard should hold

  const Json& sweep() const { return shards.front().sweep; }
  bool complete() const { return missing_shards.empty() && missing_runs.empty(); }
};

std::vector<ShardDir> read_shards(const std::vector<fs::path>& dirs) {
  std::vector<ShardDir> shards;
  for (const auto& d : dirs) {
    ShardDir in{d, read_sweep_json(d), std::nullopt, {}};
    if (!shards.empty() && in.sweep["sweep_sha256"] != shards.front().sweep["sweep_sha256"])
      fail_input(d.string(), "",
                 fmt::format("a shard of a different sweep ({}) than {} ({}): refusing to merge",
                             in.sweep.value("name", std::string("?")), dirs.front().string(),
                             shards.front().sweep.value("name", std::string("?"))));
    if (in.sweep.contains("shard") && in.sweep["shard"].is_string()) {
      try {
        in.shard = parse_shard(in.sweep["shard"].get<std::string>());
      } catch (const InputError&) {
        fail_input((d / "sweep.json").string(), "/shard", "expected \"K/N\" with 1 <= K <= N");
      }
    }
    shards.push_back(std::move(in));
  }
  return shards;
}

/// Shards of the split that no input holds (none if an input is the whole sweep).
std::vector<std::string> missing_shards(const std::vector<ShardDir>& shards) {
  std::set<uint32_t> have;
  uint32_t of = 0;
  for (const auto& in : shards) {
    if (!in.shard) return {};
    if (of && in.shard->second != of)
      fail_input((in.dir / "sweep.json").string(), "/shard",
                 fmt::format("shard {}/{} of a sweep the other inputs split into {}", in.shard->first,
                             in.shard->second, of));
    of = in.shard->second;
    have.insert(in.shard->first);
  }
  std::vector<std::string> missing;
  for (uint32_t k = 1; k <= of; ++k)
    if (!have.count(k)) missing.push_back(fmt::format("{}/{}", k, of));
  return missing;
}

/// Every run a shard was given must have ended (summary.json or failed.json),
/// and every summary.json must read. Returns the summaries that are missing.
std::vector<std::string> check_runs(std::vector<ShardDir>& shards) {
  std::vector<std::string> missing;
  const Json& points = shards.front().sweep["points"];
  for (auto& in : shards)
    for (const auto& p : points) {
      const uint64_t index = p["index"];
      if (in.shard && index % in.shard->second != in.shard->first - 1) continue;
      for (uint32_t r = 0; r < p["seeds"].size(); ++r) {
        const fs::path src = rep_dir(in.dir, p["id"], r);
        if (fs::exists(src / "summary.json")) {
          const std::string f = (src / "summary.json").string();
          if (!read_summary_file(f).is_object()) fail_input(f, "", "expected the object `vringsim run` writes");
          in.ended.push_back(src);
        } else if (fs::exists(src / "failed.json")) {
          in.ended.push_back(src);
        } else {
          missing.push_back((src / "summary.json").string());
        }
      }
    }
  return missing;
}

MergeInputs read_merge_inputs(const std::vector<fs::path>& dirs, bool partial) {
  MergeInputs in;
  in.shards = read_shards(dirs);
  in.missing_shards = missing_shards(in.shards);
  in.missing_runs = check_runs(in.shards);
  // A set that misses a shard (it once merged half a sweep with exit 0), or a
  // run that never ended, is refused unless --partial says that is meant.
  if (!partial && !in.missing_shards.empty()) {
    std::string list;
    for (const auto& k : in.missing_shards) list += (list.empty() ? "" : ", ") + k;
    fail_input(dirs.front().string(), "",
               fmt::format("shard{} {} missing: merge every shard, or give --partial",
                           in.missing_shards.size() > 1 ? "s" : "", list));
  }
  if (!partial && !in.missing_runs.empty())
    fail_input(in.missing_runs.front(), "",
               fmt::format("missing (this run never ended{}): finish the shard (rerun its sweep command) or give "
                           "--partial",
                           in.missing_runs.size() > 1 ? fmt::format("; {} runs in all", in.missing_runs.size()) : ""));
  return in;
}

/// Copies `from` to `to` under a temporary name, then gives it its name once
/// on disk (a merge killed midway leaves a temporary a later one removes).
void copy_file_atomic(const fs::path& from, const fs::path& to) {
  const fs::path tmp = to.string() + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw WriteError(fmt::format("{}: cannot write: {}", to.string(), ec.message()));
  }
  move_file_atomic(tmp, to);
}

/// Each ended run's files as the sweep left them: stderr.txt, then
/// failed.json or, last, summary.json (whose presence says the run is done),
/// so the merged tree is the unsharded sweep's, file for file (merge once
/// copied summary.json alone: no stderr.txt, and failed runs left out of
/// failures.csv). A run the output already holds a summary of is kept.
void copy_runs(const MergeInputs& in, const fs::path& out) {
  for (const auto& shard : in.shards) {
    std::error_code ec;
    if (fs::exists(out) && fs::equivalent(shard.dir, out, ec)) continue;
    for (const fs::path& src : shard.ended) {
      const fs::path dst = out / fs::relative(src, shard.dir);
      if (fs::exists(dst / "summary.json")) continue;
      fs::create_directories(dst);
      // Every file of the point (stderr.txt, a topology's guests.csv and
      // queues.csv), then the summary or failed.json, whose presence marks
      // the point merged.
      for (const auto& f : fs::directory_iterator(src)) {
        const std::string name = f.path().filename().string();
        if (!f.is_regular_file() || name == "summary.json" || name == "failed.json" || name.ends_with(".tmp"))
          continue;
        copy_file_atomic(f.path(), dst / name);
      }
      if (fs::exists(src / "summary.json")) {
        copy_file_atomic(src / "summary.json", dst / "summary.json");
        fs::remove(dst / "failed.json");
      } else {
        copy_file_atomic(src / "failed.json", dst / "failed.json");
      }
    }
  }
}

}  // namespace

int merge_sweeps(const std::vector<fs::path>& dirs, const fs::path& out, bool partial) {
  const MergeInputs in = read_merge_inputs(dirs, partial);  // nothing is written before this returns
  // Into a shard's folder only when that shard is an input: its runs would
  // be in the result while sweep.json called the shard missing.
  const Json old = sweep_json_in(out, in.sweep()["sweep_sha256"].get<std::string>());
  const bool out_is_input = std::any_of(in.shards.begin(), in.shards.end(), [&](const ShardDir& d) {
    std::error_code ec;
    return fs::equivalent(d.dir, out, ec);
  });
  if (!old.is_null() && !old["shard"].is_null() && !out_is_input)
    throw InputError(fmt::format("{}: --out: holds {}, which is not among merge's inputs: give it as an input "
                                 "too, or merge into another folder",
                                 out.string(), shard_of_sweep(old["shard"], name_of(old))));
  fs::create_directories(out);
  remove_stale_temporaries(out);
  copy_runs(in, out);
  Json merged = in.sweep();
  merged["shard"] = nullptr;
  if (!in.complete()) {
    merged["partial"] = true;
    merged["missing_shards"] = in.missing_shards;
    merged["missing_runs"] = in.missing_runs.size();
    std::cerr << fmt::format("merge: PARTIAL result ({} shard(s) and {} run(s) missing): marked in sweep.json and "
                             "aggregate.csv\n",
                             in.missing_shards.size(), in.missing_runs.size());
  }
  write_file_atomic(out / "sweep.json", merged.dump(2) + "\n");
  warn_about(write_results(out, merged));
  // Say what was merged (it printed nothing): the inputs, their runs, where.
  std::string labels;
  size_t runs = 0, failed = 0;
  for (const auto& d : in.shards) {
    labels += (labels.empty() ? "" : ", ") +
              (d.shard ? fmt::format("{}/{}", d.shard->first, d.shard->second) : std::string("the whole sweep"));
    for (const fs::path& r : d.ended) {
      ++runs;
      failed += !fs::exists(r / "summary.json");
    }
  }
  std::cout << fmt::format("merge: {} input{} of sweep {} ({}): {} runs ({} done, {} failed) into {}{}\n",
                           in.shards.size(), in.shards.size() == 1 ? "" : "s", name_of(in.sweep()), labels, runs,
                           runs - failed, failed, out.string(), in.complete() ? "" : " (partial)");
  return 0;
}

}  // namespace vringsim

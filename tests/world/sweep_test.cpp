// Sweeps: expansion, ids, bad input, and running: jobs, shards, merge,
// failures, and resume after SIGKILL.
#include "sim/core/sweep.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "sim/core/errors.hpp"
#include "sim/world/sweep_runner.hpp"

namespace vringsim {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Rows of a CSV (RFC 4180 quoting), header first.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        cell += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(cell), cell.clear();
    } else if (c == '\n') {
      rows.back().push_back(cell), cell.clear();
      rows.emplace_back();
    } else {
      cell += c;
    }
  }
  rows.pop_back();  // after the final newline
  return rows;
}

class Sweeps : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("vringsim-sweep-{}", ::getpid());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "base.json")
        << R"({"name": "b", "stop": {"time_s": 0.01}, "measure": {"warmup_s": 0.002}, "traffic": {"arrival": "poisson"}})";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& json) {
    std::ofstream(dir_ / name) << json;
    return (dir_ / name).string();
  }
  std::string error_of(const std::string& json) {
    const std::string f = write(fmt::format("e{}.json", n_++), json);
    try {
      load_sweep(f);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  static std::string grid() {
    return R"({"name": "g", "base": "base.json", "replications": 2, "axes": [
      {"key": "policy.name", "values": ["max-buffer", "mergeable", "coalesced"]},
      {"key": "traffic.rate_gbps", "values": [1, 4, 9]}]})";
  }
  fs::path dir_;
  int n_ = 0;
};

TEST_F(Sweeps, GridZipAndRandomExpandToTheRightCountsWithStableIds) {
  const Sweep g = load_sweep(write("g.json", grid()));
  EXPECT_EQ(g.points.size(), 9u);
  EXPECT_EQ(g.points[0].values.dump(), R"({"policy.name":"max-buffer","traffic.rate_gbps":1})");
  EXPECT_EQ(g.points[1].values.dump(), R"({"policy.name":"max-buffer","traffic.rate_gbps":4})");
  // Ids come from the values: the same point in another sweep has the same id.
  const Sweep z = load_sweep(write("z.json", R"({"name": "z", "base": "base.json", "combine": "zip", "axes": [
      {"key": "policy.name", "values": ["mergeable", "max-buffer"]},
      {"key": "traffic.rate_gbps", "values": [4, 1]}]})"));
  ASSERT_EQ(z.points.size(), 2u);
  EXPECT_EQ(z.points[0].id, g.points[4].id);
  EXPECT_EQ(z.points[1].id, g.points[0].id);
  const Sweep r = load_sweep(write("r.json", R"({"name": "r", "base": "base.json", "combine": "random", "samples": 25,
      "seed": 7, "axes": [{"key": "traffic.rate_gbps", "min": 0.5, "max": 10, "log": true},
                          {"key": "ring.size", "values": [256, 1024]}]})"));
  EXPECT_EQ(r.points.size(), 25u);
  for (const auto& p : r.points) {
    EXPECT_GE(p.values["traffic.rate_gbps"].get<double>(), 0.5);
    EXPECT_LE(p.values["traffic.rate_gbps"].get<double>(), 10);
  }
  const Sweep r2 = load_sweep(write("r2.json", slurp(dir_ / "r.json")));
  for (size_t i = 0; i < r.points.size(); ++i) EXPECT_EQ(r.points[i].id, r2.points[i].id);
  // Replication seeds: distinct, and stable.
  EXPECT_NE(g.seed_of(g.points[0], 0), g.seed_of(g.points[0], 1));
  EXPECT_NE(g.seed_of(g.points[0], 0), g.seed_of(g.points[1], 0));
  EXPECT_EQ(g.seed_of(g.points[3], 1), load_sweep((dir_ / "g.json").string()).seed_of(g.points[3], 1));
}

TEST_F(Sweeps, BadSweepsNameTheAxisOrThePoint) {
  EXPECT_NE(error_of(R"({"name": "x", "base": "base.json", "axes": [{"key": "ring.siz", "values": [256]}]})")
                .find(": /axes/0/key: unknown key path \"ring.siz\" (did you mean ring.size?)"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "base": "base.json", "axes": [{"key": "ring.size", "values": []}]})")
                .find(": /axes/0/values: empty axis"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "base": "base.json", "axes": [{"key": "ring.size", "values": [65536]}]})")
                .find(": /axes/0/values/0: 65536 is out of range (1..32768)"),
            std::string::npos);
  // A size only a packed ring takes is the point's to refuse (on a split ring).
  EXPECT_NE(error_of(R"({"name": "x", "base": "base.json", "axes": [{"key": "ring.size", "values": [300]}]})")
                .find("300 is not a power of two (1..32768); a split ring needs one, RING_PACKED takes any size"),
            std::string::npos);
  // Points that resolve to invalid scenarios: each is named.
  const std::string e = error_of(R"({"name": "x", "base": "base.json", "axes": [
      {"key": "policy.name", "values": ["max-buffer", "mergeable"]}, {"key": "ring.size", "values": [8, 16, 256]}]})");
  EXPECT_NE(e.find("2 of 6 points are invalid"), std::string::npos) << e;
  EXPECT_NE(e.find(R"({"policy.name":"max-buffer","ring.size":8})"), std::string::npos) << e;
  EXPECT_NE(e.find("8 entries cannot hold one max-buffer slot"), std::string::npos) << e;
  // Thousands of bad points once made a message of one line each (100,000
  // points: megabytes): the first ten are named, the rest counted.
  const std::string many = error_of(R"({"name": "x", "base": "base.json", "axes": [
      {"key": "policy.name", "values": ["max-buffer"]}, {"key": "ring.size", "values": [1, 2, 4, 8]},
      {"key": "traffic.synthetic.flows", "values": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}]})");
  EXPECT_NE(many.find("40 of 40 points are invalid (the first 10):"), std::string::npos) << many;
  EXPECT_EQ(std::count(many.begin(), many.end(), '\n'), 11) << many;
  EXPECT_NE(many.find("and 30 more invalid points"), std::string::npos) << many;
  EXPECT_NE(
      error_of(R"({"name": "x", "base": "base.json", "axez": []})").find(": /axez: unknown key (did you mean /axes?)"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "base": "base.json", "combine": "zip", "axes": [
      {"key": "ring.size", "values": [256, 512]}, {"key": "seed", "values": [1]}]})")
                .find("seeds are set per replication"),
            std::string::npos);
  EXPECT_THROW(parse_shard("0/2"), InputError);
  EXPECT_THROW(parse_shard("3/2"), InputError);
  EXPECT_EQ(parse_shard("2/3"), (std::pair<uint32_t, uint32_t>{2, 3}));
}

TEST_F(Sweeps, ASweepsTextLoadsAsItsFileDoes) {
  // load_sweep_text (the fuzz target's way in): the text as if read from the
  // path, the same sweep and the same refusals, and the file is not read.
  const std::string g = write("g.json", grid());
  const Sweep from_file = load_sweep(g);
  const Sweep from_text = load_sweep_text((dir_ / "absent.json").string(), grid());
  EXPECT_EQ(from_text.sha256, from_file.sha256);
  EXPECT_EQ(from_text.base_dir, from_file.base_dir);
  ASSERT_EQ(from_text.points.size(), from_file.points.size());
  for (size_t i = 0; i < from_file.points.size(); ++i) {
    EXPECT_EQ(from_text.points[i].id, from_file.points[i].id);
    EXPECT_EQ(from_text.seed_of(from_text.points[i], 1), from_file.seed_of(from_file.points[i], 1));
  }
  for (const std::string& bad :
       {std::string(R"({"name": "x", "base": "base.json", "axes": [{"key": "ring.siz", "values": [256]}]})"),
        std::string(R"({"name": "x", "base": "base.json", "axes": [{"key": "ring.size", "values": [1, 2, 4, 8]},
            {"key": "policy.name", "values": ["max-buffer", "mergeable", "small"]}]})"),
        std::string("{\"name\": \"x\"} \0 x", 17), std::string("[1, 2"), std::string("")}) {
    const std::string f = write("bad.json", bad);
    std::string from_path, from_memory;
    try {
      load_sweep(f);
    } catch (const InputError& e) {
      from_path = e.what();
    }
    try {
      load_sweep_text(f, bad);
    } catch (const InputError& e) {
      from_memory = e.what();
    }
    EXPECT_FALSE(from_path.empty()) << bad;
    EXPECT_EQ(from_memory, from_path) << bad;
  }
}

TEST_F(Sweeps, JobsShardsAndMergeAllGiveTheSameResults) {
  const Sweep g = load_sweep(write("g.json", grid()));
  ASSERT_EQ(run_sweep(g, {dir_ / "j1", 1, std::nullopt, false}), 0);
  ASSERT_EQ(run_sweep(g, {dir_ / "j2", 2, std::nullopt, false}), 0);
  const std::string one = slurp(dir_ / "j1/results.csv");
  EXPECT_EQ(one, slurp(dir_ / "j2/results.csv"));
  const auto rows = parse_csv(one);
  ASSERT_EQ(rows.size(), 1u + 9 * 2);
  EXPECT_EQ(rows[0][0], "point_id");
  EXPECT_EQ(rows[0][1], "rep");
  EXPECT_EQ(rows[0][2], "seed");
  // Conservation in every row.
  auto col = [&](const std::string& name) {
    for (size_t i = 0; i < rows[0].size(); ++i)
      if (rows[0][i] == name) return i;
    ADD_FAILURE() << "no column " << name;
    return size_t{0};
  };
  for (size_t r = 1; r < rows.size(); ++r)
    EXPECT_EQ(std::stoull(rows[r][col("packets.arrived")]), std::stoull(rows[r][col("packets.delivered")]) +
                                                                std::stoull(rows[r][col("packets.dropped")]) +
                                                                std::stoull(rows[r][col("packets.in_flight")]));
  // Two shards, merged, equal the unsharded run.
  ASSERT_EQ(run_sweep(g, {dir_ / "s1", 2, std::pair<uint32_t, uint32_t>{1, 2}, false}), 0);
  ASSERT_EQ(run_sweep(g, {dir_ / "s2", 2, std::pair<uint32_t, uint32_t>{2, 2}, false}), 0);
  EXPECT_EQ(parse_csv(slurp(dir_ / "s1/results.csv")).size(), 1u + 5 * 2);
  ASSERT_EQ(merge_sweeps({dir_ / "s1", dir_ / "s2"}, dir_ / "m"), 0);
  EXPECT_EQ(slurp(dir_ / "m/results.csv"), one);
  // A shard of another sweep, or an output directory holding one, is refused.
  const Sweep other = load_sweep(
      write("o.json", R"({"name": "o", "base": "base.json", "axes": [{"key": "ring.size", "values": [512]}]})"));
  ASSERT_EQ(run_sweep(other, {dir_ / "o", 1, std::nullopt, false}), 0);
  EXPECT_THROW(merge_sweeps({dir_ / "s1", dir_ / "o"}, dir_ / "m2"), InputError);
  EXPECT_THROW(run_sweep(other, {dir_ / "j1", 1, std::nullopt, false}), InputError);
  EXPECT_EQ(slurp(dir_ / "j1/results.csv"), one);  // untouched
}

TEST_F(Sweeps, RunsNotInSteadyStateOrWithNothingMeasuredAreCountedMarkedAndWarnedAbout) {
  // A tap of 100000 frames at 10 Gb/s on max-buffer fills for the whole
  // 0.05 s: its backlog trends (measure.steady false). Five packets end
  // before the warm-up: nothing measured (measure.valid false).
  const Sweep s = load_sweep(write("u.json", R"({"name": "u", "combine": "zip", "replications": 2, "seed": 1,
      "base": {"name": "b", "stop": {"time_s": 0.05}, "measure": {"warmup_s": 0.01},
               "traffic": {"rate_gbps": 10}, "policy": {"name": "max-buffer"}},
      "axes": [{"key": "host.tap_queue_packets", "values": [500, 100000, 500]},
               {"key": "stop.packets", "values": [100000000, 100000000, 5]}]})"));
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  ASSERT_EQ(run_sweep(s, {dir_ / "u", 2, std::nullopt, false}), 0);
  const std::string err = testing::internal::GetCapturedStderr();
  const std::string out = testing::internal::GetCapturedStdout();
  const auto agg = parse_csv(slurp(dir_ / "u/aggregate.csv"));
  ASSERT_EQ(agg.size(), 4u);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < agg[0].size(); ++i) col[agg[0][i]] = i;
  ASSERT_TRUE(col.count("runs_unsteady") && col.count("runs_invalid")) << slurp(dir_ / "u/aggregate.csv");
  EXPECT_EQ(agg[1][col["runs_unsteady"]], "0");
  EXPECT_EQ(agg[1][col["runs_invalid"]], "0");
  EXPECT_EQ(agg[2][col["runs_unsteady"]], "2");
  EXPECT_EQ(agg[2][col["runs_invalid"]], "0");
  EXPECT_EQ(agg[3][col["runs_invalid"]], "2");
  EXPECT_NE(err.find(fmt::format("sweep: warning: 2 of 6 runs not in steady state (point {}): "
                                 "lengthen stop.time_s and measure.warmup_s",
                                 s.points[1].id)),
            std::string::npos)
      << err;
  EXPECT_NE(err.find(fmt::format("sweep: warning: nothing measured in 2 of 6 runs (point {})", s.points[2].id)),
            std::string::npos)
      << err;
  // The table marks them as `vringsim run` marks its rows.
  EXPECT_NE(out.find(s.points[1].id + " ~"), std::string::npos) << out;
  EXPECT_NE(out.find(s.points[2].id + " *"), std::string::npos) << out;
  EXPECT_EQ(out.find(s.points[0].id + " ~"), std::string::npos) << out;
  // merge says the same.
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  ASSERT_EQ(merge_sweeps({dir_ / "u"}, dir_ / "um"), 0);
  const std::string merr = testing::internal::GetCapturedStderr();
  testing::internal::GetCapturedStdout();
  EXPECT_NE(merr.find("2 of 6 runs not in steady state"), std::string::npos) << merr;
  EXPECT_EQ(slurp(dir_ / "um/aggregate.csv"), slurp(dir_ / "u/aggregate.csv"));
}

TEST_F(Sweeps, TheShippedCiSweepHasItsRowsAndConservationInEach) {
  const Sweep s = load_sweep(std::string(VRINGSIM_SOURCE_DIR) + "/scenarios/sweeps/ci.json");
  ASSERT_EQ(run_sweep(s, {dir_ / "ci", 2, std::nullopt, false}), 0);
  const auto rows = parse_csv(slurp(dir_ / "ci/results.csv"));
  ASSERT_EQ(rows.size(), 1u + s.points.size() * s.replications);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < rows[0].size(); ++i) col[rows[0][i]] = i;
  for (size_t r = 1; r < rows.size(); ++r) {
    for (const char* k : {"packets", "bytes"})
      EXPECT_EQ(std::stoull(rows[r][col[std::string(k) + ".arrived"]]),
                std::stoull(rows[r][col[std::string(k) + ".delivered"]]) +
                    std::stoull(rows[r][col[std::string(k) + ".dropped"]]) +
                    std::stoull(rows[r][col[std::string(k) + ".in_flight"]]))
          << "row " << r;
    // The axis values appear as their config columns.
    EXPECT_FALSE(rows[r][col["config.ring.size"]].empty());
  }
  // aggregate.csv: per point, the mean and the Student-t 95% half-width over
  // its two replications: t(0.975, 1) * s / sqrt(2) = 12.7062 * |a - b| / 2.
  const auto agg = parse_csv(slurp(dir_ / "ci/aggregate.csv"));
  ASSERT_EQ(agg.size(), 1u + s.points.size());
  std::map<std::string, size_t> acol;
  for (size_t i = 0; i < agg[0].size(); ++i) acol[agg[0][i]] = i;
  const std::string key = "throughput.delivered_gbps";
  for (size_t a = 1; a < agg.size(); ++a) {
    std::vector<double> v;
    for (size_t r = 1; r < rows.size(); ++r)
      if (rows[r][0] == agg[a][0]) v.push_back(std::stod(rows[r][col[key]]));
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(agg[a][acol["n"]], "2");
    EXPECT_NEAR(std::stod(agg[a][acol[key + ".mean"]]), (v[0] + v[1]) / 2, 1e-12);
    EXPECT_NEAR(std::stod(agg[a][acol[key + ".ci95"]]), 12.706204736174698 * std::fabs(v[0] - v[1]) / 2, 1e-9);
  }
  // Each axis is a column of its own with the point's value, strings too
  // (policy.name); the configuration, the same in every replication by
  // construction, has no mean or interval.
  for (const auto& [axis, value] : s.points[0].values.items()) {
    ASSERT_TRUE(acol.count(axis)) << axis;
    EXPECT_EQ(agg[1][acol[axis]], value.is_string() ? value.get<std::string>() : value.dump()) << axis;
  }
  EXPECT_TRUE(acol.count("policy.name"));
  for (const auto& [name, c] : acol) {
    EXPECT_FALSE(name.starts_with("config.")) << name;
    EXPECT_FALSE(name.starts_with("provenance.")) << name;
  }
}

TEST_F(Sweeps, ATimedOutRunIsRecordedAndTheOthersComplete) {
  const Sweep s = load_sweep(write("t.json", R"({"name": "t", "base": "base.json", "timeout_s": 1, "axes": [
      {"key": "stop.time_s", "values": [0.01, 100000, 0.02]}]})"));
  EXPECT_EQ(run_sweep(s, {dir_ / "t", 2, std::nullopt, false}), 1);
  EXPECT_EQ(parse_csv(slurp(dir_ / "t/results.csv")).size(), 3u);  // header + the two short runs
  const auto failures = parse_csv(slurp(dir_ / "t/failures.csv"));
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[1][3], "timed out after 1 s");
}

TEST_F(Sweeps, ARerunAfterSigkillEndsWithTheSameResults) {
  const std::string f = write("k.json", R"({"name": "k", "base": "base.json", "replications": 3, "axes": [
      {"key": "traffic.rate_gbps", "values": [1, 2, 3, 4, 5, 6]},
      {"key": "stop.time_s", "values": [0.15]}]})");
  const Sweep s = load_sweep(f);
  ASSERT_EQ(run_sweep(s, {dir_ / "full", 2, std::nullopt, false}), 0);
  // Kill a sweep (and its runs: the whole process group) part-way through.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::_exit(run_sweep(s, {dir_ / "killed", 1, std::nullopt, false}));
  }
  ::setpgid(pid, pid);
  size_t done = 0;
  for (int i = 0; i < 3000 && done < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    done = 0;
    if (fs::exists(dir_ / "killed/points"))
      for (const auto& e : fs::recursive_directory_iterator(dir_ / "killed/points"))
        done += e.path().filename() == "summary.json";
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
  EXPECT_FALSE(fs::exists(dir_ / "killed/results.csv"));
  ASSERT_EQ(run_sweep(s, {dir_ / "killed", 2, std::nullopt, false}), 0);
  EXPECT_EQ(slurp(dir_ / "killed/results.csv"), slurp(dir_ / "full/results.csv"));
}

}  // namespace
}  // namespace vringsim

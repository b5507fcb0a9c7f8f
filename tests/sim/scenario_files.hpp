// A test fixture for scenario files: writes JSON text to a temporary
// directory, loads it, and gives the error a bad one is refused with.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/core/errors.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim::test_support {

class ScenarioFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vringsim-scn-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& text) {
    const auto p = dir_ / fmt::format("s{}.json", n_++);
    std::ofstream(p) << text;
    return p.string();
  }
  Scenario load(const std::string& text, const std::vector<std::string>& sets = {}) {
    return load_scenario(write(text), sets);
  }
  /// The error message load_scenario gives, after the file name, or "" if it loads.
  std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
    const std::string f = write(text);
    try {
      load_scenario(f, sets);
    } catch (const InputError& e) {
      const std::string m = e.what();
      return m.substr(0, f.size()) == f ? m.substr(f.size()) : m;
    }
    return "";
  }
  std::filesystem::path dir_;
  int n_ = 0;
};

}  // namespace vringsim::test_support

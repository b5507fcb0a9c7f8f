// A validated, resolved scenario: every declared parameter has a value
// (default < scenario file < sweep axis < --set). Typed look-ups by dotted key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/params.hpp"

namespace vringsim {

class Config {
 public:
  Config() = default;
  explicit Config(Json resolved) : json_(std::move(resolved)) {}

  const Json& json() const { return json_; }
  const Json& at(const std::string& key) const;
  int64_t integer(const std::string& key) const { return at(key).get<int64_t>(); }
  double number(const std::string& key) const { return at(key).get<double>(); }
  bool flag(const std::string& key) const { return at(key).get<bool>(); }
  std::string string(const std::string& key) const { return at(key).get<std::string>(); }
  std::vector<double> numbers(const std::string& key) const { return at(key).get<std::vector<double>>(); }

 private:
  Json json_;
};

}  // namespace vringsim

// Driver profiles: named presets of scenario keys (`driver.profile`), the
// way `costs.preset` fills costs. A profile only sets keys, each with the
// source of its value; every mechanism it selects is a feature, a policy or
// a parameter of its own (no per-profile constants in the model).
// Precedence: default < profile < scenario file < sweep axis < --set.
// Profiles are plug-ins (models/profiles/); the core never names one.
#pragma once

#include <string>
#include <vector>

#include "sim/core/params.hpp"

namespace vringsim {

struct ProfileSetting {
  std::string key;  ///< dotted key, e.g. "virtio.features"
  Json value;
  std::string source;  ///< where the value comes from
};

struct ProfileInfo {
  std::string name;
  std::string description;
  std::vector<ProfileSetting> settings;
};

}  // namespace vringsim

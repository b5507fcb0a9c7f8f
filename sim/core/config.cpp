#include "sim/core/config.hpp"

#include "sim/core/errors.hpp"

namespace vringsim {

const Json& Config::at(const std::string& key) const {
  const Json* value = find_key(json_, key);
  if (!value) throw InvariantError("configuration has no key " + key);
  return *value;
}

}  // namespace vringsim

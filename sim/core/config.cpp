#include "sim/core/config.hpp"

#include "sim/core/errors.hpp"

namespace vringsim {

const Json& Config::at(const std::string& key) const {
  const Json::json_pointer ptr(key_to_pointer(key));
  if (!json_.contains(ptr)) throw InvariantError("configuration has no key " + key);
  return json_.at(ptr);
}

}  // namespace vringsim

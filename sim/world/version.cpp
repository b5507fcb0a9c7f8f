#include "sim/world/world.hpp"

#ifndef VRINGSIM_VERSION
#define VRINGSIM_VERSION "0.0.0"
#endif

namespace vringsim {

const char* version() { return VRINGSIM_VERSION; }

}  // namespace vringsim

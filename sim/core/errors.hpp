// Error types that cross the core's boundary.
//
// InputError is bad input from a user (scenario file, --set, command line): the
// message is already formatted as `SOURCE: /json/pointer: what is wrong` and the
// program exits 2 with it. InvariantError is a bug: a broken model invariant
// (conservation, descriptor states); the program exits 3 naming it.
#pragma once

#include <stdexcept>
#include <string>

namespace vringsim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InvariantError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Throws InvariantError with `what` when `ok` is false. Used for checks that
/// stay on in release builds: a simulator that silently loses a descriptor is
/// worse than one that stops.
inline void ensure(bool ok, const char* what) {
  if (!ok) throw InvariantError(what);
}
inline void ensure(bool ok, const std::string& what) {
  if (!ok) throw InvariantError(what);
}

}  // namespace vringsim

// Test-only LD_PRELOAD shim: fsync() fails with EIO once it has been called
// FAIL_FSYNC_AFTER times, so a test can make vringsim's N-th file write fail
// midway (tests run as root: permission bits cannot do it).
#include <dlfcn.h>

#include <cerrno>
#include <cstdlib>

extern "C" int fsync(int fd) {
  using Fn = int (*)(int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fsync"));
  static int calls = 0;
  const char* limit = std::getenv("FAIL_FSYNC_AFTER");
  if (limit && ++calls > std::atoi(limit)) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

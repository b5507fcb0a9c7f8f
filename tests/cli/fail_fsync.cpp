// Test-only LD_PRELOAD shim: fsync() fails once it has been called
// FAIL_FSYNC_AFTER times, so a test can make vringsim's N-th file write fail
// midway (tests run as root: permission bits cannot do it).
//   FAIL_FSYNC_MATCH=TEXT  only fsyncs of files whose path contains TEXT are
//                          counted and failed (summary.json: every run's
//                          summary, in whichever process writes it)
//   FAIL_FSYNC_ERRNO=N     the error (default EIO; 28 is ENOSPC, a full disk)
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" int fsync(int fd) {
  using Fn = int (*)(int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fsync"));
  static int calls = 0;
  const char* limit = std::getenv("FAIL_FSYNC_AFTER");
  if (!limit) return real(fd);
  if (const char* match = std::getenv("FAIL_FSYNC_MATCH"); match && *match) {
    char link[64], path[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, path, sizeof path - 1);
    if (n < 0) return real(fd);
    path[n] = 0;
    if (!std::strstr(path, match)) return real(fd);
  }
  if (++calls > std::atoi(limit)) {
    const char* e = std::getenv("FAIL_FSYNC_ERRNO");
    errno = e ? std::atoi(e) : EIO;
    return -1;
  }
  return real(fd);
}

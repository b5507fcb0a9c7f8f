// Writes a fuzz input to a file (the readers under test read files).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace vringsim::fuzz {

/// $VRINGSIM_FUZZ_DIR (scripts/fuzz.sh sets it, inside its work directory), else a
/// private directory in memory (/dev/shm) when there is one: on a disk file
/// system, truncating and rewriting the input file on every run cost more
/// than parsing it (ext4 frees and discards the blocks each time).
inline const std::string& work_dir() {
  static const std::string dir = [] {
    if (const char* env = std::getenv("VRINGSIM_FUZZ_DIR"); env && *env) return std::string(env);
    const std::string pid = std::to_string(::getpid());
    for (const char* root : {"/dev/shm", "/tmp"}) {
      const std::string d = std::string(root) + "/vringsim-fuzz-" + pid;
      if (::mkdir(d.c_str(), 0700) == 0 || ::access(d.c_str(), W_OK) == 0) return d;
    }
    __builtin_trap();
  }();
  return dir;
}

/// Rewrites work_dir()/input<suffix> with the input, through one descriptor
/// kept open (no open, close or new inode per run: the reader's own open is
/// the only path look-up).
inline std::string input_file(const uint8_t* data, size_t size, const char* suffix) {
  static const std::string path = work_dir() + "/input" + suffix;
  static const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) __builtin_trap();
  if (size && ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
  return path;
}

}  // namespace vringsim::fuzz

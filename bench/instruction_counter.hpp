// User-space instructions retired, counted by the CPU (Linux perf_event_open,
// PERF_TYPE_HARDWARE / PERF_COUNT_HW_INSTRUCTIONS, exclude_kernel and
// exclude_hv), for the benches: this process's own (the bare loop), and those
// of the child processes it forks (vringsim::run_in_child), threads included.
//
// The children are counted without touching the runner: one counter on this
// process has `inherit` set, so every child forked while it is open gets its
// own copy, counting from the fork (as `perf stat` does from the exec), and
// the kernel adds each child's count to it when the child exits, before
// wait() returns. A second counter, without `inherit`, counts this process
// alone. Over an interval that ends after the children have been waited
// for, what the children ran is the first counter's delta minus the second's:
// the parent's own instructions (forking, reading the pipe, decoding the
// result) are in both. The two reads at each end are a few hundred
// instructions apart, against millions a run.
//
// Where the machine cannot count (perf_event_paranoid, a VM without a PMU,
// a seccomp filter, a counter the kernel had to multiplex and would only
// estimate) available() is false and why() says why: the benches print
// "n/a", never an estimate.
#pragma once

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

namespace vringsim::bench {

class InstructionCounter {
 public:
  InstructionCounter() {
    self_ = open(false);
    if (self_ >= 0) children_ = open(true);
    if (self_ < 0 || children_ < 0) {
      why_ = reason(errno);
      close_all();
    }
  }
  ~InstructionCounter() { close_all(); }
  InstructionCounter(const InstructionCounter&) = delete;
  InstructionCounter& operator=(const InstructionCounter&) = delete;

  bool available() const { return self_ >= 0 && why_.empty(); }
  /// Why available() is false (one line), or empty.
  const std::string& why() const { return why_; }

  /// Both counters at one instant; nullopt (and why() set) if a count is not exact.
  struct Reading {
    uint64_t self = 0, with_children = 0;
  };
  std::optional<Reading> read() {
    if (!available()) return std::nullopt;
    Reading r;
    if (!read_one(self_, r.self) || !read_one(children_, r.with_children)) {
      close_all();
      return std::nullopt;
    }
    return r;
  }

  /// Instructions this process ran between two readings.
  static uint64_t own(const Reading& a, const Reading& b) { return b.self - a.self; }
  /// Instructions the children forked and waited for between two readings ran.
  static uint64_t children(const Reading& a, const Reading& b) {
    const uint64_t all = b.with_children - a.with_children, mine = own(a, b);
    return all > mine ? all - mine : 0;
  }

 private:
  int self_ = -1, children_ = -1;
  std::string why_;

  static int open(bool inherit) {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_INSTRUCTIONS;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.inherit = inherit ? 1 : 0;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0 /* this process */, -1 /* any CPU */,
                                      -1 /* no group */, PERF_FLAG_FD_CLOEXEC));
  }

  bool read_one(int fd, uint64_t& value) {
    uint64_t v[3] = {0, 0, 0};  // value, time enabled, time running
    if (::read(fd, v, sizeof v) != static_cast<ssize_t>(sizeof v)) {
      why_ = std::string("reading the instruction counter failed: ") + std::strerror(errno);
      return false;
    }
    if (v[2] < v[1]) {
      why_ = "the instruction counter was multiplexed with other events (the kernel would only estimate the count)";
      return false;
    }
    value = v[0];
    return true;
  }

  void close_all() {
    if (self_ >= 0) ::close(self_);
    if (children_ >= 0) ::close(children_);
    self_ = children_ = -1;
  }

  static std::string paranoid() {
    std::ifstream f("/proc/sys/kernel/perf_event_paranoid");
    std::string s;
    return f >> s ? s : "unreadable";
  }

  static std::string reason(int err) {
    const std::string base = std::string("perf_event_open(instructions) failed: ") + std::strerror(err) + ": ";
    switch (err) {
      case EACCES:
      case EPERM:
        return base + "not permitted (kernel.perf_event_paranoid is " + paranoid() +
               "; counting one's own processes in user space needs 2 or less, or a seccomp filter refuses it)";
      case ENOENT:
      case ENODEV:
      case EOPNOTSUPP:
      case EINVAL: return base + "this CPU exposes no instruction counter (a virtual machine without a virtual PMU?)";
      case ENOSYS: return base + "the system call is not available (kernel without perf events, or a seccomp filter)";
      default: return base + "cannot count";
    }
  }
};

}  // namespace vringsim::bench

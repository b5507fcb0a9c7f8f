// A pcapng reader (draft-ietf-opsawg-pcapng) that reads what libpcap reads
// and refuses what it refuses (issue 35): Debian 12's libpcap 1.10 is the
// reference, and tests/pcap/pcap_diff_test.cpp and fuzz/fuzz_pcap_diff.cpp
// compare the two on every capture in the tree, on hand-built hostile ones
// and on fuzzed bytes. What libpcap does, and so this reader:
// - the first Section Header Block: version 1.0 or 1.2, length 28..1 MiB (its
//   trailing length and alignment are not checked); a later one: major
//   version 1, the same byte order, its trailing length checked like any
//   block's;
// - blocks of 12 bytes to 16 MiB, a multiple of 4, with matching trailing
//   lengths; unknown blocks skipped;
// - interfaces: one link type and one snaplen (0 and above INT_MAX meaning
//   262144) for the whole file; if_tsresol (one byte, at most once, 10^-0..19
//   or 2^-0..63) and if_tsoffset (8 bytes, at most once), opt_endofopt of
//   length 0; a captured length above the snaplen is refused;
// - enhanced, obsolete and simple packet blocks. A simple packet block has
//   no timestamp: libpcap gives the first interface's if_tsoffset, and so do
//   we, with has_time false (a replay that keeps the capture's timing
//   refuses it, models/traffic/pcap.cpp).
//
// Refused although libpcap reads them (docs/contract.md, "Captures read as
// libpcap reads them"): if_tsresol 2^-35..2^-63, whose fractions libpcap's
// 64-bit arithmetic turns into wrong nanoseconds, and timestamps outside a
// signed 64-bit count of seconds, which libpcap wraps around.
//
// Ours rather than libpcap's reading: it keeps the fraction finer than a
// nanosecond (10^-10..10^-19, 2^-30..2^-34) for the replay's timing, knows
// the resolution (to refuse the ones above), says which packets came without
// a timestamp, and names the byte offset of a damaged block. Plain C++: no
// libpcap.
#pragma once

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace vringsim {

class PcapngReader {
 public:
  /// Whole seconds, wide enough for differences of any two 64-bit counts.
  __extension__ using Seconds = __int128;
  struct Packet {
    uint32_t interface = 0;
    int64_t sec = 0;          ///< whole seconds since the epoch, if_tsoffset included
    int64_t nsec = 0;         ///< the fraction in whole nanoseconds, truncated (libpcap's figure)
    long double frac = 0;     ///< the fraction of a second, in [0, 1), as finely as the file has it
    bool exact_ns = false;    ///< the resolution is 10^-n, n <= 9: `nsec` is the whole fraction
    bool has_time = true;     ///< false: a Simple Packet Block (sec = the interface's if_tsoffset)
    uint32_t caplen = 0;
    uint32_t origlen = 0;
    const uint8_t* data = nullptr;  ///< valid until the next call
  };
  enum class Status { Packet, End, Truncated, Damaged };

  /// What is wrong with the file's start, and the offset of the block.
  class HeaderError : public std::runtime_error {
   public:
    HeaderError(const std::string& what, uint64_t offset) : std::runtime_error(what), offset(offset) {}
    uint64_t offset;
  };

  /// Finest binary if_tsresol read (2^-34): libpcap scales a fraction to
  /// nanoseconds as fraction * 10^9 in 64 bits, which overflows beyond it.
  static constexpr uint32_t kFinestBinaryExp = 34;

  /// Reads from `fp` (not owned), positioned at its start, up to and
  /// including the first interface description. Throws HeaderError.
  explicit PcapngReader(std::FILE* fp);

  /// The capture's link type as a DLT_ value, as libpcap maps it
  /// (LINKTYPE_RAW 101 is DLT_RAW).
  int linktype() const { return dlt_; }
  /// Where the first Interface Description Block starts.
  uint64_t interface_offset() const { return first_idb_at_; }
  /// Where the block last read (the packet returned, or the damage) starts.
  uint64_t block_offset() const { return block_at_; }

  /// The next packet; on Truncated or Damaged `why` says what (the file
  /// ended inside a block / the block is malformed).
  Status next(Packet& p, std::string* why);

 private:
  struct Interface {
    bool binary = false;  ///< resolution 2^-exp, else 10^-exp
    uint32_t exp = 6;
    int64_t offset_s = 0;
  };
  enum class Read { Ok, End, Truncated, Damaged };
  Read read_block(uint32_t* type, std::string* why);
  size_t read_bytes(void* to, size_t n);
  /// Appends up to `n` bytes of the file to body_, growing it only as they
  /// arrive; returns how many were read. A damaged block may claim 16 MiB in
  /// a file of 20 bytes: allocating the claim first cost more than reading.
  size_t append_body(size_t n);
  bool add_interface(std::string* why);
  bool timestamp(const Interface& ifc, uint64_t ts, Packet& p, std::string* why) const;
  uint16_t u16(size_t off) const;
  uint32_t u32(size_t off) const;
  uint64_t u64(size_t off) const;
  /// Block payload bytes: the body without its trailing length.
  size_t payload() const { return body_.size() - 4; }

  std::FILE* fp_;
  uint64_t pos_ = 0;              ///< bytes read from the file
  uint64_t block_at_ = 0;
  uint64_t first_idb_at_ = 0;
  bool swap_ = false;             ///< the file's byte order differs from ours
  std::vector<uint8_t> body_;     ///< the current block after its type and length
  std::vector<Interface> ifaces_;  ///< the current section's
  int dlt_ = -1;                  ///< the first interface's link type, as a DLT_
  uint32_t snapshot_ = 0;         ///< the first interface's snaplen, adjusted
};

}  // namespace vringsim

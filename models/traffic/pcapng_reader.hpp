// A pcapng reader (the pcapng specification, draft-ietf-opsawg-pcapng):
// sections in either byte order, interface descriptions with every
// timestamp resolution the format allows (if_tsresol: 10^-n or 2^-n, n up to
// 127) and if_tsoffset, enhanced, obsolete and simple packet blocks; other
// blocks are skipped. One block in memory at a time.
//
// Ours rather than libpcap's because libpcap converts every timestamp to
// micro- or nanoseconds with a 64-bit scale that breaks for fine binary
// resolutions (2^-63 decoded as whole seconds), and refuses a packet longer
// than its interface's snaplen although it reads the same packet from a pcap
// file. Plain C++: no libpcap.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace vringsim {

class PcapngReader {
 public:
  /// Whole seconds: a 64-bit count of seconds plus a signed 64-bit offset.
  __extension__ using Seconds = __int128;
  struct Packet {
    uint32_t interface = 0;
    Seconds sec = 0;          ///< whole seconds (if_tsoffset included)
    long double frac = 0;     ///< and the fraction of a second, in [0, 1)
    bool exact_ns = false;    ///< the resolution is 10^-n, n <= 9: `nsec` is exact
    int64_t nsec = 0;         ///< the fraction in whole nanoseconds (exact only if exact_ns)
    uint32_t caplen = 0;
    uint32_t origlen = 0;
    const uint8_t* data = nullptr;  ///< valid until the next call
  };
  enum class Status { Packet, End, Truncated, Damaged };

  /// Reads from `fp` (not owned) up to and including the first interface
  /// description. Throws std::runtime_error with libpcap-like wording if the
  /// file does not start with a valid section and an interface.
  explicit PcapngReader(std::FILE* fp);

  /// The link type of the capture (every interface must share it).
  int linktype() const { return linktype_; }

  /// The next packet; on Truncated or Damaged `why` says what (the file
  /// ended inside a block / the block is malformed).
  Status next(Packet& p, std::string* why);

 private:
  struct Interface {
    int linktype = 0;
    uint32_t snaplen = 0;
    bool binary = false;  ///< resolution 2^-exp, else 10^-exp
    uint32_t exp = 6;
    int64_t offset_s = 0;
  };
  enum class Read { Ok, End, Truncated, Damaged };
  Read read_block(uint32_t* type, std::string* why);
  /// Appends up to `n` bytes of the file to body_, growing it only as they
  /// arrive; returns how many were read. A damaged block may claim 16 MiB in
  /// a file of 20 bytes: allocating the claim first cost more than reading.
  size_t append_body(size_t n);
  bool parse_section(std::string* why);
  bool parse_interface(std::string* why);
  void timestamp(const Interface& ifc, uint64_t ts, Packet& p) const;
  uint16_t u16(size_t off) const;
  uint32_t u32(size_t off) const;
  uint64_t u64(size_t off) const;

  std::FILE* fp_;
  bool swap_ = false;             ///< the section's byte order differs from ours
  std::vector<uint8_t> body_;     ///< the current block after its type and length
  std::vector<Interface> ifaces_;
  int linktype_ = -1;
};

}  // namespace vringsim

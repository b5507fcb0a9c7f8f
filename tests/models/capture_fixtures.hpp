// Capture files built byte by byte, so the tests cover what libpcap cannot
// write (pcapng, nanosecond, big-endian) and what no tool writes on purpose
// (truncated and damaged files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vringsim::fixtures {

struct Pkt {
  uint64_t ts_ns;             ///< since the epoch
  uint32_t orig_len;          ///< on the wire
  std::vector<uint8_t> data;  ///< captured bytes
};

class Bytes {
 public:
  explicit Bytes(bool big_endian) : be_(big_endian) {}
  void u8(uint8_t v) { b_.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void raw(const std::vector<uint8_t>& d) { b_.insert(b_.end(), d.begin(), d.end()); }
  void pad4() {
    while (b_.size() % 4) b_.push_back(0);
  }
  std::vector<uint8_t>& data() { return b_; }

 private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b_.push_back(static_cast<uint8_t>(v >> (8 * (be_ ? n - 1 - i : i))));
  }
  bool be_;
  std::vector<uint8_t> b_;
};

/// An Ethernet/IPv4/TCP frame header for `flow_port`, `payload` bytes long on the wire.
inline Pkt tcp_frame(uint64_t ts_ns, uint16_t flow_port, uint32_t payload, uint32_t snap = 96) {
  std::vector<uint8_t> d(14 + 20 + 20, 0);
  d[12] = 0x08;  // IPv4
  d[14] = 0x45;
  d[14 + 9] = 6;  // TCP
  d[14 + 12] = 10, d[14 + 15] = 1, d[14 + 16] = 10, d[14 + 19] = 2;
  d[34] = 0x13, d[35] = 0x89;  // sport 5001
  d[36] = static_cast<uint8_t>(flow_port >> 8), d[37] = static_cast<uint8_t>(flow_port);
  d[34 + 12] = 5 << 4;  // data offset 20
  const uint32_t orig = 54 + payload;
  d.resize(std::min(orig, snap), 0);
  return {ts_ns, orig, d};
}

/// An Ethernet/IPv4 frame of `proto` (6 TCP, 17 UDP) from src:sport to
/// dst:dport (addresses as 10.0.0.N, given N), `wire` bytes long on the wire.
inline Pkt ip_frame(uint64_t ts_ns, uint8_t proto, uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport,
                    uint32_t wire) {
  Pkt p = tcp_frame(ts_ns, dport, wire - 54);
  auto& d = p.data;
  d[14 + 9] = proto;
  d[14 + 15] = src, d[14 + 19] = dst;
  d[34] = static_cast<uint8_t>(sport >> 8), d[35] = static_cast<uint8_t>(sport);
  return p;
}

/// An ARP frame (not IP), 60 bytes.
inline Pkt arp_frame(uint64_t ts_ns) {
  std::vector<uint8_t> d(60, 0);
  d[12] = 0x08, d[13] = 0x06;
  return {ts_ns, 60, d};
}

/// Issue 34's capture for trace-info, nine frames over 2.7002 s:
///   0 s, 0.5 ms       tcp 10.0.0.1:5001 > 10.0.0.2:80, 1514 bytes each
///   1.2 ms            tcp 10.0.0.2:80 > 10.0.0.1:5001, 64 bytes (the other way)
///   3 ms              tcp 10.0.0.1:5001 > 10.0.0.2:81, 1514
///   50 ms             udp 10.0.0.3:53 > 10.0.0.1:4000, 100
///   200 ms            ARP, 60 (not IP)
///   2.7, 2.7001, 2.7002 s  tcp 10.0.0.1:5001 > 10.0.0.2:80, 1514 each (after a 2.5 s gap)
inline std::vector<Pkt> issue34_capture() {
  const uint64_t t0 = 1700000000000000000ull;
  return {ip_frame(t0, 6, 1, 5001, 2, 80, 1514),
          ip_frame(t0 + 500000, 6, 1, 5001, 2, 80, 1514),
          ip_frame(t0 + 1200000, 6, 2, 80, 1, 5001, 64),
          ip_frame(t0 + 3000000, 6, 1, 5001, 2, 81, 1514),
          ip_frame(t0 + 50000000, 17, 3, 53, 1, 4000, 100),
          arp_frame(t0 + 200000000),
          ip_frame(t0 + 2700000000ull, 6, 1, 5001, 2, 80, 1514),
          ip_frame(t0 + 2700100000ull, 6, 1, 5001, 2, 80, 1514),
          ip_frame(t0 + 2700200000ull, 6, 1, 5001, 2, 80, 1514)};
}

/// Classic pcap. `nano`: nanosecond magic. `linktype`: DLT value.
inline std::vector<uint8_t> pcap_file(const std::vector<Pkt>& pkts, bool big_endian, bool nano, uint32_t linktype = 1) {
  Bytes b(big_endian);
  b.u32(nano ? 0xa1b23c4d : 0xa1b2c3d4);
  b.u16(2), b.u16(4), b.u32(0), b.u32(0), b.u32(262144), b.u32(linktype);
  for (const auto& p : pkts) {
    b.u32(static_cast<uint32_t>(p.ts_ns / 1000000000));
    b.u32(static_cast<uint32_t>(nano ? p.ts_ns % 1000000000 : (p.ts_ns % 1000000000) / 1000));
    b.u32(static_cast<uint32_t>(p.data.size())), b.u32(p.orig_len);
    b.raw(p.data);
  }
  return b.data();
}

/// pcapng with any if_tsresol (the option's byte: 10^-n, or 2^-n with the
/// top bit set; 0xff: no option, microseconds) and interface snaplen.
/// Timestamps are ts_ns converted to that unit (exactly, in 128 bits).
inline std::vector<uint8_t> pcapng_file_res(const std::vector<Pkt>& pkts, bool big_endian, uint8_t tsresol,
                                            uint32_t snaplen = 262144, uint32_t linktype = 1) {
  Bytes b(big_endian);
  b.u32(0x0a0d0d0a), b.u32(28), b.u32(0x1a2b3c4d), b.u16(1), b.u16(0), b.u32(0xffffffff), b.u32(0xffffffff), b.u32(28);
  const bool opt = tsresol != 0xff;
  const uint32_t idb_len = opt ? 20 + 8 + 4 : 20;
  b.u32(1), b.u32(idb_len), b.u16(static_cast<uint16_t>(linktype)), b.u16(0), b.u32(snaplen);
  if (opt) {
    b.u16(9), b.u16(1), b.u8(tsresol), b.u8(0), b.u8(0), b.u8(0);
    b.u16(0), b.u16(0);
  }
  b.u32(idb_len);
  __extension__ typedef unsigned __int128 u128;
  u128 per_s = 1;
  const unsigned n = opt ? (tsresol & 0x7fu) : 6u;
  for (unsigned k = 0; k < n; ++k) per_s *= (opt && (tsresol & 0x80)) ? 2 : 10;
  for (const auto& p : pkts) {
    const uint32_t padded = (static_cast<uint32_t>(p.data.size()) + 3) & ~3u;
    const uint32_t len = 32 + padded;
    const uint64_t ts = static_cast<uint64_t>(static_cast<u128>(p.ts_ns) * per_s / 1000000000u);
    b.u32(6), b.u32(len), b.u32(0), b.u32(static_cast<uint32_t>(ts >> 32)), b.u32(static_cast<uint32_t>(ts));
    b.u32(static_cast<uint32_t>(p.data.size())), b.u32(p.orig_len);
    b.raw(p.data);
    b.pad4();
    b.u32(len);
  }
  return b.data();
}

/// pcapng: section header, one interface (nanosecond resolution if `nano`,
/// else no if_tsresol: microseconds), one enhanced packet block per packet.
inline std::vector<uint8_t> pcapng_file(const std::vector<Pkt>& pkts, bool big_endian, bool nano,
                                        uint32_t linktype = 1) {
  return pcapng_file_res(pkts, big_endian, nano ? 9 : 0xff, 262144, linktype);
}

inline void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace vringsim::fixtures

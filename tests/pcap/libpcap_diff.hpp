// The libpcap differential check (issue 35): one capture read by libpcap
// (pcap_open_offline_with_tstamp_precision, pcap_next_ex, nanoseconds) and by
// vringsim's reader (CaptureFile), and the two readings compared: accepted or
// refused, how many packets, and each packet's original and captured length
// and timestamp in nanoseconds.
//
// vringsim agrees with libpcap, or refuses where libpcap reads for one of the
// documented reasons below (docs/contract.md, "Captures read as libpcap reads
// them"): then the packets it read before refusing must be libpcap's first
// ones. Reading what libpcap refuses, or reading a packet differently, is
// never a documented difference. Used by tests/pcap/pcap_diff_test.cpp (every
// capture in the tree and the hand-built ones) and fuzz/fuzz_pcap_diff.cpp.
#pragma once

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/traffic/capture_file.hpp"
#include "sim/core/errors.hpp"

namespace vringsim::pcapdiff {

struct Packet {
  uint32_t len = 0;     ///< original length
  uint32_t caplen = 0;  ///< captured length
  int64_t sec = 0;      ///< seconds since the epoch
  int64_t nsec = 0;     ///< and nanoseconds
  bool operator==(const Packet&) const = default;
};

struct Reading {
  bool refused = false;
  std::string error;
  std::vector<Packet> packets;
};

inline std::string show(const Packet& p) {
  return fmt::format("len {} caplen {} ts {}.{:09}", p.len, p.caplen, p.sec, p.nsec);
}

inline Reading read_libpcap(const std::string& path) {
  Reading r;
  char err[PCAP_ERRBUF_SIZE] = "";
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    r.refused = true;
    r.error = err;
    return r;
  }
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &data)) == 1)
    r.packets.push_back({h->len, h->caplen, static_cast<int64_t>(h->ts.tv_sec), static_cast<int64_t>(h->ts.tv_usec)});
  if (rc != PCAP_ERROR_BREAK) {
    r.refused = true;
    r.error = pcap_geterr(p);
  }
  pcap_close(p);
  return r;
}

inline Reading read_vringsim(const std::string& path) {
  Reading r;
  try {
    CaptureFile c(path, "", "", false);
    while (auto rec = c.next()) r.packets.push_back({rec->orig_len, rec->captured_len, rec->ts_sec, rec->ts_nsec});
  } catch (const InputError& e) {
    r.refused = true;
    r.error = e.what();
  }
  return r;
}

/// The reasons vringsim refuses a capture that libpcap reads, each with the
/// words of vringsim's message that name it.
struct Documented {
  const char* key;
  const char* words;
};
inline constexpr Documented kDocumented[] = {
    // A link type whose frames the simulator cannot turn into Ethernet lengths.
    {"link-type", ") is not supported (Ethernet, raw IP"},
    // A record of original length 0: no frame to replay.
    {"length-0", ": length 0 ("},
    // An original length that is no Ethernet frame of 1..262144 bytes.
    {"length-range", " is outside 1..262144 bytes"},
    // if_tsresol 2^-35 .. 2^-63: libpcap's nanoseconds overflow 64 bits.
    {"tsresol-2pow", "is finer than libpcap converts exactly"},
    // A timestamp outside a signed 64-bit count of seconds: libpcap wraps it.
    {"seconds-range", "outside a signed 64-bit count of seconds"},
};

enum class Outcome { Agree, Documented, Disagree };
struct Verdict {
  Outcome outcome = Outcome::Agree;
  std::string key;   ///< the documented difference
  std::string what;  ///< how the readings differ
};

inline std::string describe(const Reading& r) {
  return r.refused ? fmt::format("read {} packets, then refused: {}", r.packets.size(), r.error)
                   : fmt::format("read all {} packets", r.packets.size());
}

inline Verdict compare(const Reading& lib, const Reading& ours) {
  size_t same = 0;
  while (same < lib.packets.size() && same < ours.packets.size() && lib.packets[same] == ours.packets[same]) ++same;
  if (lib.refused == ours.refused && same == lib.packets.size() && same == ours.packets.size()) return {};
  std::string what = fmt::format("libpcap {}; vringsim {}", describe(lib), describe(ours));
  if (same < lib.packets.size() && same < ours.packets.size())
    what += fmt::format("; packet {} differs: libpcap {}, vringsim {}", same + 1, show(lib.packets[same]),
                        show(ours.packets[same]));
  // A documented refusal: vringsim stops, with its reason, where libpcap went on.
  if (ours.refused && same == ours.packets.size())
    for (const Documented& d : kDocumented)
      if (ours.error.find(d.words) != std::string::npos) return {Outcome::Documented, d.key, what};
  return {Outcome::Disagree, "", what};
}

}  // namespace vringsim::pcapdiff

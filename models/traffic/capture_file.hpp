// Reading a packet capture, one record at a time: memory stays flat whatever
// the capture's length. pcap with libpcap (either byte order, microsecond
// and nanosecond timestamps); pcapng with our own reader
// (models/traffic/pcapng_reader.hpp: every if_tsresol, and the same frames
// pcap takes). BPF filters are libpcap's for both.
//
// Lengths are the original length on the wire, not the captured length
// (captures are often cut by snaplen), normalised to Ethernet framing:
// link types that carry another L2 header (Linux cooked capture, BSD
// loopback) or none (raw IP) get their length adjusted as if the frame had
// a 14-byte Ethernet header. Other link types are rejected by name.
#pragma once

#include <pcap/pcap.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "models/traffic/pcapng_reader.hpp"

namespace vringsim {

/// A frame's addresses as trace-info reports them: the same Ethernet (VLAN
/// tags skipped), IPv4/IPv6 and TCP/UDP headers the flow hash reads.
struct FiveTuple {
  uint8_t version = 0;     ///< 4 or 6; 0: not IP (or its IP header was not captured)
  uint8_t proto = 0;       ///< IPv4 protocol, IPv6 next header
  bool has_ports = false;  ///< TCP or UDP, the first fragment, ports captured
  bool vlan = false;       ///< behind an 802.1Q/802.1ad tag
  uint16_t sport = 0, dport = 0;
  std::array<uint8_t, 16> src{}, dst{};  ///< the first 4 bytes for IPv4
  /// "10.0.0.1", "fe80::1"; with a port, "10.0.0.1:5001", "[fe80::1]:5001".
  std::string src_text(bool port) const;
  std::string dst_text(bool port) const;
  /// "tcp", "udp", "icmp", "icmpv6" or "proto N".
  std::string proto_name() const;
};

class CaptureFile {
 public:
  struct Record {
    uint64_t index = 0;         ///< 1-based position in the file (before filtering)
    uint32_t wire_len = 0;      ///< original length, as an Ethernet frame without FCS
    uint32_t captured_len = 0;  ///< bytes the capture kept
    bool truncated = false;     ///< the capture kept less than the original (snaplen)
    double time_s = 0;          ///< since the file's first record
    uint32_t flow = 0;          ///< hash of the 5-tuple (0 if not IP or cut short)
    uint32_t header_bytes = 0;  ///< Ethernet + IP + TCP/UDP header bytes (0 if unknown)
    uint32_t orig_len = 0;      ///< original length as the file holds it (before normalising)
    bool has_time = true;       ///< false: a pcapng Simple Packet Block (time_s is the previous record's)
    int64_t ts_sec = 0;         ///< the timestamp as libpcap gives it: seconds since the epoch
    int64_t ts_nsec = 0;        ///< and nanoseconds (finer resolutions truncated)
    uint64_t offset = 0;        ///< where the record (pcap) or block (pcapng) starts in the file
  };

  /// Opens `file`; `filter` is a BPF expression (pcap-filter(7)) or "".
  /// Throws InputError naming the file and the byte offset of what is wrong
  /// (or `filter_where` for a bad filter).
  /// `parse_flows`: fill Record::flow and header_bytes (host GRO, routing by
  /// flow and host-side segmentation need them).
  CaptureFile(const std::filesystem::path& file, const std::string& filter = "", const std::string& filter_where = "",
              bool parse_flows = true);
  ~CaptureFile();
  CaptureFile(const CaptureFile&) = delete;
  CaptureFile& operator=(const CaptureFile&) = delete;

  /// The next record that passes the filter; nothing at the end of the file.
  /// A damaged record throws InputError "FILE: packet N: ... (record at byte
  /// X; K packets read before it)" ("block at byte X" in a pcapng file).
  std::optional<Record> next();
  /// Also parse each record's addresses and ports (tuple()).
  void keep_tuples() { keep_tuples_ = true; }
  /// With keep_tuples(): the addresses of the record next() last returned.
  const FiveTuple& tuple() const { return tuple_; }
  /// A last record cut short by the end of the file ends the file instead of
  /// being an error (traffic.pcap.allow_truncated_tail).
  void allow_truncated_tail() { allow_cut_tail_ = true; }
  /// The file ended inside a record (only with allow_truncated_tail): its index.
  std::optional<uint64_t> cut_tail() const { return cut_tail_; }

  const std::string& link_type() const { return link_name_; }
  /// "pcap" or "pcapng", with byte order and timestamp precision for pcap.
  const std::string& format() const { return format_; }
  /// "record" (pcap) or "block" (pcapng): what an error's byte offset points at.
  const char* unit() const { return ng_ ? "block" : "record"; }
  uint64_t records_read() const { return index_; }
  uint64_t filtered_out() const { return filtered_out_; }
  uint64_t nonmonotonic() const { return nonmonotonic_; }

  /// True if the file starts with a pcap or pcapng magic number.
  static bool looks_like_capture(const std::filesystem::path& file);

 private:
  void parse_headers(const u_char* data, uint32_t caplen, Record& r) const;
  /// One record as the file holds it: status 1 a packet, 0 the file ends
  /// inside it, -1 it is damaged (`error` says how).
  struct Raw {
    int status = 1;
    std::string error;
    pcap_pkthdr hdr{};
    const u_char* data = nullptr;
    PcapngReader::Seconds sec = 0;
    int64_t nsec = 0;
    long double frac = 0;
    bool exact = true;
    bool has_time = true;
    uint64_t offset = 0;
  };
  /// False at the end of the file.
  bool read_raw(Raw& r);
  void close();

  bool allow_cut_tail_ = false;
  std::optional<uint64_t> cut_tail_;
  std::filesystem::path file_;
  pcap_t* pcap_ = nullptr;             ///< pcap files
  std::FILE* pcap_fp_ = nullptr;       ///< and the file it reads (owned by pcap_)
  uint64_t pcap_next_at_ = 24;         ///< where the next pcap record starts
  uint32_t pcap_snapshot_ = 0;         ///< libpcap's snaplen for the file
  uint32_t pcap_record_header_ = 16;   ///< record header bytes (24 in the "modified" format)
  std::FILE* ng_fp_ = nullptr;         ///< pcapng files: the file and our reader
  std::unique_ptr<PcapngReader> ng_;
  pcap_t* dead_ = nullptr;             ///< pcapng: a handle to compile the filter with
  bool parse_flows_ = true;
  bool keep_tuples_ = false;
  FiveTuple tuple_;
  bpf_program filter_{};
  bool has_filter_ = false;
  int dlt_ = 0;
  int adjust_ = 0;  ///< bytes to add to a record's length to make it an Ethernet frame
  std::string link_name_;
  std::string format_;
  uint64_t index_ = 0;
  uint64_t filtered_out_ = 0;
  uint64_t nonmonotonic_ = 0;
  bool have_origin_ = false;
  PcapngReader::Seconds origin_sec_ = 0;
  int64_t origin_nsec_ = 0;
  long double origin_frac_ = 0;  ///< pcapng: the first record's fraction of a second
  bool origin_exact_ = true;     ///< its nanoseconds are exact
  double last_time_ = 0;
};

}  // namespace vringsim

#include "models/traffic/capture_file.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "sim/core/errors.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {

namespace {

constexpr uint32_t kEthernetHeader = 14;

// Link types (pcap-linktype(7)) and what they put before the network layer.
struct LinkType {
  int dlt;
  int l2_bytes;  ///< header bytes before the network layer
};
constexpr std::array<LinkType, 7> kLinkTypes = {{
    {DLT_EN10MB, 14},      // Ethernet
    {DLT_RAW, 0},          // raw IP (LINKTYPE_RAW)
    {DLT_IPV4, 0},         // raw IPv4
    {DLT_IPV6, 0},         // raw IPv6
    {DLT_LINUX_SLL, 16},   // Linux cooked capture v1 ("tcpdump -i any")
    {DLT_LINUX_SLL2, 20},  // Linux cooked capture v2
    {DLT_NULL, 4},         // BSD loopback (DLT_LOOP below)
}};

uint16_t be16(const u_char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

}  // namespace

bool CaptureFile::looks_like_capture(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char m[4] = {0, 0, 0, 0};
  if (!in.read(reinterpret_cast<char*>(m), 4)) return false;
  const uint32_t be = uint32_t{m[0]} << 24 | uint32_t{m[1]} << 16 | uint32_t{m[2]} << 8 | m[3];
  return be == 0xa1b2c3d4 || be == 0xd4c3b2a1 || be == 0xa1b23c4d || be == 0x4d3cb2a1 || be == 0xa1b2cd34 ||
         be == 0x34cdb2a1 || be == 0x0a0d0d0a;
}

CaptureFile::CaptureFile(const std::filesystem::path& file, const std::string& filter, const std::string& filter_where,
                         bool parse_flows)
    : file_(file), parse_flows_(parse_flows) {
  const std::string name = file.string();
  // One FILE for the magic number and the reader. Its buffer: up to 1 MiB
  // (libpcap reads two small pieces per record, and stdio's default 4 KiB
  // made that a visible cost), but no more than the file needs.
  FILE* fp = std::fopen(name.c_str(), "rb");
  if (!fp) throw InputError(fmt::format("{}: cannot open capture", name));
  struct stat st {};
  const size_t size = ::fstat(fileno(fp), &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  std::setvbuf(fp, nullptr, _IOFBF, std::clamp<size_t>(size, 4096, 1 << 20));
  unsigned char m[4] = {0, 0, 0, 0};
  const size_t got = std::fread(m, 1, 4, fp);
  const uint32_t be = uint32_t{m[0]} << 24 | uint32_t{m[1]} << 16 | uint32_t{m[2]} << 8 | m[3];
  if (be == 0x0a0d0d0a)
    format_ = "pcapng";
  else if (be == 0xa1b2c3d4 || be == 0xd4c3b2a1)
    format_ = fmt::format("pcap ({}, microsecond)", be == 0xa1b2c3d4 ? "big-endian" : "little-endian");
  else if (be == 0xa1b23c4d || be == 0x4d3cb2a1)
    format_ = fmt::format("pcap ({}, nanosecond)", be == 0xa1b23c4d ? "big-endian" : "little-endian");
  else if (be == 0xa1b2cd34 || be == 0x34cdb2a1)  // "modified" pcap (Kuznetzov's patch), which libpcap reads too
    format_ = fmt::format("pcap ({}, microsecond, modified)", be == 0xa1b2cd34 ? "big-endian" : "little-endian");
  if (format_.empty() || got != 4 || std::fseek(fp, 0, SEEK_SET) != 0) {
    std::fclose(fp);
    throw InputError(fmt::format("{}: not a pcap or pcapng capture (magic number {:02x}{:02x}{:02x}{:02x})", name,
                                 m[0], m[1], m[2], m[3]));
  }
  char err[PCAP_ERRBUF_SIZE] = "";
  if (format_ == "pcapng") {
    ng_fp_ = fp;
    try {
      ng_ = std::make_unique<PcapngReader>(fp);
    } catch (const PcapngReader::HeaderError& e) {
      std::fclose(fp);
      ng_fp_ = nullptr;
      throw InputError(fmt::format("{}: header: cannot read capture: {} (block at byte {})", name, e.what(), e.offset));
    }
    dlt_ = ng_->linktype();
  } else {
    pcap_ = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, err);  // owns fp from here
    if (!pcap_) {
      std::fclose(fp);
      throw InputError(fmt::format("{}: header: cannot read capture: {} (file header at byte 0)", name, err));
    }
    pcap_fp_ = fp;
    pcap_snapshot_ = static_cast<uint32_t>(std::max(pcap_snapshot(pcap_), 0));
    pcap_record_header_ = format_.find("modified") != std::string::npos ? 24 : 16;
    dlt_ = pcap_datalink(pcap_);
  }
  const char* dname = pcap_datalink_val_to_name(dlt_);
  link_name_ = dname ? dname : fmt::format("linktype {}", dlt_);
  bool known = dlt_ == DLT_LOOP;
  int l2 = 4;
  for (const auto& lt : kLinkTypes)
    if (lt.dlt == dlt_) {
      known = true;
      l2 = lt.l2_bytes;
    }
  if (!known) {
    const std::string where = ng_ ? fmt::format("Interface Description Block at byte {}", ng_->interface_offset())
                                  : std::string("file header at byte 0");
    close();
    throw InputError(fmt::format(
        "{}: link type {} ({}) is not supported (Ethernet, raw IP, Linux cooked v1/v2 and BSD loopback are; {})",
        name, link_name_, dlt_, where));
  }
  adjust_ = static_cast<int>(kEthernetHeader) - l2;
  if (!filter.empty()) {
    if (!pcap_) dead_ = pcap_open_dead(dlt_, static_cast<int>(kMaxTraceFrameBytes));
    pcap_t* compiler = pcap_ ? pcap_ : dead_;
    if (!compiler || pcap_compile(compiler, &filter_, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      const std::string why = compiler ? pcap_geterr(compiler) : "cannot make a libpcap handle";
      close();
      throw InputError(
          fmt::format("{}: invalid BPF filter \"{}\": {}", filter_where.empty() ? name : filter_where, filter, why));
    }
    has_filter_ = true;
  }
}

void CaptureFile::close() {
  if (pcap_) pcap_close(pcap_);
  pcap_ = nullptr;
  pcap_fp_ = nullptr;
  if (dead_) pcap_close(dead_);
  dead_ = nullptr;
  ng_.reset();
  if (ng_fp_) std::fclose(ng_fp_);
  ng_fp_ = nullptr;
}

CaptureFile::~CaptureFile() {
  if (has_filter_) pcap_freecode(&filter_);
  close();
}

bool CaptureFile::read_raw(Raw& r) {
  if (ng_) {
    PcapngReader::Packet p;
    std::string why;
    const PcapngReader::Status st = ng_->next(p, &why);
    r.offset = ng_->block_offset();
    switch (st) {
      case PcapngReader::Status::End: return false;
      case PcapngReader::Status::Truncated: r.status = 0; r.error = why; return true;
      case PcapngReader::Status::Damaged: r.status = -1; r.error = why; return true;
      case PcapngReader::Status::Packet: break;
    }
    r.status = 1;
    r.hdr.caplen = p.caplen;
    r.hdr.len = p.origlen;
    r.data = p.data;
    r.sec = p.sec;
    r.nsec = p.nsec;
    r.frac = p.frac;
    r.exact = p.exact_ns;
    r.has_time = p.has_time;
    return true;
  }
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  r.offset = pcap_next_at_;
  const int rc = pcap_next_ex(pcap_, &hdr, &data);
  if (rc == PCAP_ERROR_BREAK || rc == -2) return false;  // end of file
  if (rc != 1) {
    // libpcap says "truncated dump file" when the file ends inside a record.
    const std::string why = pcap_geterr(pcap_);
    r.status = why.find("truncated") != std::string::npos ? 0 : -1;
    r.error = why;
    return true;
  }
  r.status = 1;
  r.hdr = *hdr;
  r.data = data;
  // Where the next record starts: libpcap read this one's header and its
  // captured bytes, unless it cut them to the snaplen (and skipped the
  // rest): then ask the file. (ftell on every record cost 10 to 20% of
  // reading a capture.)
  if (hdr->caplen < pcap_snapshot_) {
    pcap_next_at_ += pcap_record_header_ + hdr->caplen;
  } else {
    const long at = std::ftell(pcap_fp_);
    pcap_next_at_ = at < 0 ? pcap_next_at_ : static_cast<uint64_t>(at);
  }
  // Nanosecond precision was asked for: tv_usec holds nanoseconds.
  r.sec = hdr->ts.tv_sec;
  r.nsec = hdr->ts.tv_usec;
  r.frac = static_cast<long double>(r.nsec) * 1e-9L;
  r.exact = true;
  return true;
}

namespace {

/// Where the network layer starts in a frame of link type `dlt`, and its IP
/// version (4 or 6; anything else: not IP). `vlan`: a tag was skipped.
int network_layer(int dlt, const u_char* d, uint32_t caplen, uint32_t& off, bool& vlan) {
  off = 0;
  int version = 0;
  if (dlt == DLT_EN10MB) {
    if (caplen < 14) return 0;
    uint16_t type = be16(d + 12);
    off = 14;
    while ((type == 0x8100 || type == 0x88a8) && caplen >= off + 4) {  // VLAN tags
      type = be16(d + off + 2);
      off += 4;
    }
    vlan = off > 14;
    version = type == 0x0800 ? 4 : type == 0x86dd ? 6 : 0;
  } else if (dlt == DLT_LINUX_SLL) {
    if (caplen < 16) return 0;
    const uint16_t type = be16(d + 14);
    off = 16;
    version = type == 0x0800 ? 4 : type == 0x86dd ? 6 : 0;
  } else if (dlt == DLT_LINUX_SLL2) {
    if (caplen < 20) return 0;
    const uint16_t type = be16(d);
    off = 20;
    version = type == 0x0800 ? 4 : type == 0x86dd ? 6 : 0;
  } else if (dlt == DLT_NULL || dlt == DLT_LOOP) {
    off = 4;
    if (caplen > 4) version = d[4] >> 4;
  } else {
    if (caplen > 0) version = d[0] >> 4;
  }
  return version;
}

std::string address_text(const FiveTuple& t, const std::array<uint8_t, 16>& a, bool port, uint16_t p) {
  char buf[INET6_ADDRSTRLEN] = "";
  ::inet_ntop(t.version == 4 ? AF_INET : AF_INET6, a.data(), buf, sizeof buf);
  if (!port || !t.has_ports) return buf;
  return t.version == 4 ? fmt::format("{}:{}", buf, p) : fmt::format("[{}]:{}", buf, p);
}

/// The addresses and ports of a frame, as far as they were captured.
FiveTuple parse_tuple(int dlt, const u_char* d, uint32_t caplen) {
  FiveTuple t;
  uint32_t off = 0;
  const int version = network_layer(dlt, d, caplen, off, t.vlan);
  uint32_t l4 = 0;
  if (version == 4 && caplen >= off + 20) {
    t.proto = d[off + 9];
    std::copy(d + off + 12, d + off + 16, t.src.begin());
    std::copy(d + off + 16, d + off + 20, t.dst.begin());
    l4 = off + (d[off] & 0x0f) * 4u;
    if ((be16(d + off + 6) & 0x1fff) != 0) l4 = 0;  // a later fragment: no L4 header
  } else if (version == 6 && caplen >= off + 40) {
    t.proto = d[off + 6];
    std::copy(d + off + 8, d + off + 24, t.src.begin());
    std::copy(d + off + 24, d + off + 40, t.dst.begin());
    l4 = off + 40;
  } else {
    return t;
  }
  t.version = static_cast<uint8_t>(version);
  if ((t.proto == 6 || t.proto == 17) && l4 && caplen >= l4 + 4) {
    t.has_ports = true;
    t.sport = be16(d + l4);
    t.dport = be16(d + l4 + 2);
  }
  return t;
}

}  // namespace

std::string FiveTuple::src_text(bool port) const { return address_text(*this, src, port, sport); }
std::string FiveTuple::dst_text(bool port) const { return address_text(*this, dst, port, dport); }
std::string FiveTuple::proto_name() const {
  switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "icmpv6";
    default: return fmt::format("proto {}", proto);
  }
}

void CaptureFile::parse_headers(const u_char* d, uint32_t caplen, Record& r) const {
  // Find the network layer.
  uint32_t off = 0;
  bool vlan = false;
  const int version = network_layer(dlt_, d, caplen, off, vlan);
  if (version != 4 && version != 6) return;
  uint32_t ip_len = 0, l4 = 0;
  uint8_t proto = 0;
  uint64_t h = name_hash("flow");
  auto mix = [&h](const u_char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ULL;
    }
  };
  if (version == 4) {
    if (caplen < off + 20) return;
    ip_len = (d[off] & 0x0f) * 4u;
    proto = d[off + 9];
    mix(d + off + 12, 8);  // source and destination addresses
  } else {
    if (caplen < off + 40) return;
    ip_len = 40;
    proto = d[off + 6];
    mix(d + off + 8, 32);
  }
  mix(&proto, 1);
  l4 = off + ip_len;
  uint32_t l4_len = 0;
  if (proto == 6 && caplen >= l4 + 13) {
    l4_len = (d[l4 + 12] >> 4) * 4u;  // TCP data offset
    mix(d + l4, 4);                   // ports
  } else if (proto == 17 && caplen >= l4 + 4) {
    l4_len = 8;
    mix(d + l4, 4);
  } else {
    return;  // not TCP or UDP (or cut short): no flow to merge on
  }
  r.flow = static_cast<uint32_t>(h ^ (h >> 32)) | 1u;  // never 0: 0 means "no flow"
  r.header_bytes = kEthernetHeader + ip_len + l4_len;
}

std::optional<CaptureFile::Record> CaptureFile::next() {
  while (true) {
    if (cut_tail_) return std::nullopt;
    Raw raw;
    if (!read_raw(raw)) return std::nullopt;  // end of file
    ++index_;
    // The file ends inside a record: a cut tail, nothing else.
    if (raw.status == 0 && allow_cut_tail_) {
      cut_tail_ = index_;
      return std::nullopt;
    }
    if (raw.status != 1)
      throw InputError(fmt::format("{}: packet {}: damaged record: {} ({} at byte {}; {} packets read before it)",
                                   file_.string(), index_, raw.error, unit(), raw.offset, index_ - 1));
    const pcap_pkthdr* hdr = &raw.hdr;
    const u_char* data = raw.data;
    if (hdr->len == 0)
      throw InputError(fmt::format("{}: packet {}: length 0 ({} at byte {}; {} packets read before it)",
                                   file_.string(), index_, unit(), raw.offset, index_ - 1));
    const int64_t wire = static_cast<int64_t>(hdr->len) + adjust_;
    if (wire <= 0 || wire > kMaxTraceFrameBytes)
      throw InputError(fmt::format("{}: packet {}: length {} is outside 1..{} bytes ({} at byte {}; {} packets read "
                                   "before it)",
                                   file_.string(), index_, hdr->len, kMaxTraceFrameBytes, unit(), raw.offset,
                                   index_ - 1));
    if (has_filter_ && !pcap_offline_filter(&filter_, hdr, data)) {
      ++filtered_out_;
      continue;
    }
    Record r;
    r.index = index_;
    r.wire_len = static_cast<uint32_t>(wire);
    r.captured_len = hdr->caplen;
    r.truncated = hdr->caplen < hdr->len;
    r.orig_len = hdr->len;
    r.ts_sec = static_cast<int64_t>(raw.sec);
    r.ts_nsec = raw.nsec;
    r.offset = raw.offset;
    r.has_time = raw.has_time;
    if (parse_flows_) parse_headers(data, hdr->caplen, r);
    if (keep_tuples_) tuple_ = parse_tuple(dlt_, data, hdr->caplen);
    if (!raw.has_time) {
      // A pcapng Simple Packet Block: no timestamp of its own, so no time on
      // the trace's clock either (and no backward step counted for it).
      r.time_s = last_time_;
      return r;
    }
    // Work relative to the first record in integers: epoch nanoseconds do
    // not fit a double's 53 bits. A resolution finer than a nanosecond
    // (pcapng) takes the fraction as it is.
    const PcapngReader::Seconds sec = raw.sec;
    const int64_t nsec = raw.nsec;
    if (!have_origin_) {
      origin_sec_ = sec;
      origin_nsec_ = nsec;
      origin_frac_ = raw.frac;
      origin_exact_ = raw.exact;
      have_origin_ = true;
    }
    // (128 bits: two signed 64-bit counts of seconds differ by up to 2^64.)
    const double whole = static_cast<double>(sec - origin_sec_);
    if (raw.exact && origin_exact_)
      r.time_s = whole + static_cast<double>(nsec - origin_nsec_) * 1e-9;
    else
      r.time_s = static_cast<double>(static_cast<long double>(whole) + (raw.frac - origin_frac_));
    if (r.time_s < last_time_) ++nonmonotonic_;
    last_time_ = r.time_s;
    return r;
  }
}

}  // namespace vringsim

#include "models/traffic/pcapng_reader.hpp"

#include <fmt/format.h>
#include <pcap/dlt.h>  // DLT_ values only: nothing of libpcap is called

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

namespace vringsim {

namespace {
constexpr uint32_t kSectionHeader = 0x0a0d0d0a;
constexpr uint32_t kInterface = 1;
constexpr uint32_t kObsoletePacket = 2;
constexpr uint32_t kSimplePacket = 3;
constexpr uint32_t kEnhancedPacket = 6;
constexpr uint32_t kByteOrderMagic = 0x1a2b3c4d;
constexpr uint32_t kMaxBlock = 16u << 20;         ///< libpcap's limit for our link types
constexpr uint32_t kMaxFirstSection = 1u << 20;   ///< libpcap's limit for the first Section Header Block
constexpr uint32_t kMaxSnaplen = 262144;          ///< libpcap's snaplen for a bogus one (0, > INT_MAX)
constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptTsresol = 9;
constexpr uint16_t kOptTsoffset = 14;
constexpr int kLinktypeRaw = 101;

uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }

/// libpcap's LINKTYPE_ to DLT_ mapping for the link types that differ on
/// this platform and that vringsim reads (every other value is its own DLT_
/// here, or a link type CaptureFile refuses by name).
int linktype_to_dlt(int linktype) { return linktype == kLinktypeRaw ? DLT_RAW : linktype; }

/// A snaplen as libpcap holds it: 0 and above INT_MAX stand for the largest.
uint32_t adjust_snaplen(uint32_t snaplen) {
  return snaplen == 0 || snaplen > static_cast<uint32_t>(INT_MAX) ? kMaxSnaplen : snaplen;
}

constexpr uint64_t kPow10[20] = {1ull,
                                 10ull,
                                 100ull,
                                 1000ull,
                                 10000ull,
                                 100000ull,
                                 1000000ull,
                                 10000000ull,
                                 100000000ull,
                                 1000000000ull,
                                 10000000000ull,
                                 100000000000ull,
                                 1000000000000ull,
                                 10000000000000ull,
                                 100000000000000ull,
                                 1000000000000000ull,
                                 10000000000000000ull,
                                 100000000000000000ull,
                                 1000000000000000000ull,
                                 10000000000000000000ull};
}  // namespace

uint16_t PcapngReader::u16(size_t off) const {
  uint16_t v;
  std::memcpy(&v, body_.data() + off, 2);
  return swap_ ? __builtin_bswap16(v) : v;
}
uint32_t PcapngReader::u32(size_t off) const {
  uint32_t v;
  std::memcpy(&v, body_.data() + off, 4);
  return swap_ ? bswap32(v) : v;
}
uint64_t PcapngReader::u64(size_t off) const {
  uint64_t v;
  std::memcpy(&v, body_.data() + off, 8);
  return swap_ ? __builtin_bswap64(v) : v;
}

size_t PcapngReader::read_bytes(void* to, size_t n) {
  const size_t got = std::fread(to, 1, n, fp_);
  pos_ += got;
  return got;
}

size_t PcapngReader::append_body(size_t n) {
  constexpr size_t kChunk = 64 << 10;
  size_t got = 0;
  while (got < n) {
    const size_t want = std::min(n - got, kChunk);
    const size_t at = body_.size();
    body_.resize(at + want);
    const size_t r = read_bytes(body_.data() + at, want);
    got += r;
    if (r < want) {
      body_.resize(at + r);
      break;
    }
  }
  return got;
}

PcapngReader::PcapngReader(std::FILE* fp) : fp_(fp) {
  // The first Section Header Block: type, length, byte-order magic; the
  // magic says the file's byte order. libpcap checks its length against
  // 28..1 MiB and reads that many bytes, trailing length unchecked.
  uint8_t head[12];
  if (read_bytes(head, sizeof head) < sizeof head)
    throw HeaderError("the file ends inside its Section Header Block", 0);
  uint32_t magic, len;
  std::memcpy(&magic, head + 8, 4);
  std::memcpy(&len, head + 4, 4);
  if (magic == kByteOrderMagic)
    swap_ = false;
  else if (bswap32(magic) == kByteOrderMagic)
    swap_ = true;
  else
    throw HeaderError(fmt::format("Section Header Block has byte-order magic {:08x}, not 1a2b3c4d", magic), 0);
  if (swap_) len = bswap32(len);
  if (len < 28 || len > kMaxFirstSection)
    throw HeaderError(fmt::format("Section Header Block has length {}, outside 28..{}", len, kMaxFirstSection), 0);
  body_.clear();
  if (const size_t got = append_body(len - 12); got < len - 12)
    throw HeaderError(fmt::format("the file ends inside its Section Header Block ({} of its {} bytes there)",
                                  got + 12, len),
                      0);
  const uint16_t major = u16(0), minor = u16(2);
  if (major != 1 || (minor != 0 && minor != 2))
    throw HeaderError(fmt::format("pcapng version {}.{} (versions 1.0 and 1.2 are read, as libpcap reads them)",
                                  major, minor),
                      0);
  // Up to the first interface; other blocks (another section header too) are skipped.
  while (true) {
    uint32_t type = 0;
    std::string why;
    const Read r = read_block(&type, &why);
    if (r == Read::End) throw HeaderError("no Interface Description Block before the end of the file", pos_);
    if (r != Read::Ok) throw HeaderError(why, block_at_);
    if (type == kEnhancedPacket || type == kObsoletePacket || type == kSimplePacket)
      throw HeaderError("a packet block before any Interface Description Block", block_at_);
    if (type != kInterface) continue;
    if (payload() < 8)
      throw HeaderError(fmt::format("Interface Description Block of {} bytes, under 20", body_.size() + 8), block_at_);
    first_idb_at_ = block_at_;
    dlt_ = linktype_to_dlt(u16(0));
    snapshot_ = adjust_snaplen(u32(4));
    if (!add_interface(&why)) throw HeaderError(why, block_at_);
    return;
  }
}

PcapngReader::Read PcapngReader::read_block(uint32_t* type, std::string* why) {
  block_at_ = pos_;
  uint32_t head[2];
  const size_t got = read_bytes(head, sizeof head);
  if (got == 0) return Read::End;
  if (got < sizeof head) {
    *why = fmt::format("truncated pcapng file: {} of a block header's 8 bytes", got);
    return Read::Truncated;
  }
  const uint32_t t = swap_ ? bswap32(head[0]) : head[0];
  const uint32_t len = swap_ ? bswap32(head[1]) : head[1];
  if (len < 12 || len % 4 != 0 || len > kMaxBlock) {
    *why = fmt::format("block of type {:#x} has length {} (a multiple of 4 in 12..{})", t, len, kMaxBlock);
    return Read::Damaged;
  }
  body_.clear();
  if (const size_t rest = append_body(len - 8); rest < len - 8) {
    *why = fmt::format("truncated pcapng file: {} of a {}-byte block", rest + 8, len);
    return Read::Truncated;
  }
  if (u32(body_.size() - 4) != len) {
    *why = fmt::format("block of type {:#x}: trailing length {} differs from its length {}", t, u32(body_.size() - 4),
                       len);
    return Read::Damaged;
  }
  *type = t;
  return Read::Ok;
}

bool PcapngReader::add_interface(std::string* why) {
  // Fixed part: link type u16, reserved u16, snaplen u32; then options, each
  // code u16, length u16, value padded to 4, up to opt_endofopt or the end.
  Interface ifc;
  const size_t index = ifaces_.size();
  bool saw_tsresol = false, saw_tsoffset = false;
  const size_t end = payload();
  for (size_t off = 8; off != end;) {
    if (end - off < 4) {
      *why = fmt::format("interface {}: an option header cut short by the end of its block", index);
      return false;
    }
    const uint16_t code = u16(off), olen = u16(off + 2);
    const size_t value = off + 4, padded = (olen + 3u) & ~3u;
    if (end - value < padded) {
      *why = fmt::format("interface {}: option {} of {} bytes runs past its block", index, code, olen);
      return false;
    }
    off = value + padded;
    if (code == kOptEnd) {
      if (olen != 0) {
        *why = fmt::format("interface {}: opt_endofopt has length {}, not 0", index, olen);
        return false;
      }
      break;
    }
    if (code == kOptTsresol) {
      if (olen != 1 || saw_tsresol) {
        *why = saw_tsresol ? fmt::format("interface {}: a second if_tsresol option", index)
                           : fmt::format("interface {}: if_tsresol has length {}, not 1", index, olen);
        return false;
      }
      saw_tsresol = true;
      const uint8_t r = body_[value];
      ifc.binary = (r & 0x80) != 0;
      ifc.exp = r & 0x7f;
      if (ifc.exp > (ifc.binary ? 63u : 19u)) {
        // 2^-n or 10^-n units per second would not fit 64 bits.
        *why = fmt::format("interface {}: if_tsresol {}^-{} is finer than a 64-bit count of units per second holds",
                           index, ifc.binary ? 2 : 10, ifc.exp);
        return false;
      }
    } else if (code == kOptTsoffset) {
      if (olen != 8 || saw_tsoffset) {
        *why = saw_tsoffset ? fmt::format("interface {}: a second if_tsoffset option", index)
                            : fmt::format("interface {}: if_tsoffset has length {}, not 8", index, olen);
        return false;
      }
      saw_tsoffset = true;
      ifc.offset_s = static_cast<int64_t>(u64(value));
    }
  }
  if (ifc.binary && ifc.exp > kFinestBinaryExp) {
    // libpcap reads it, with wrong nanoseconds for most fractions: refused
    // (docs/contract.md, "Captures read as libpcap reads them").
    *why = fmt::format(
        "interface {}: if_tsresol 2^-{} is finer than libpcap converts exactly (2^-{}: beyond, its nanoseconds "
        "overflow 64 bits)",
        index, ifc.exp, kFinestBinaryExp);
    return false;
  }
  ifaces_.push_back(ifc);
  return true;
}

bool PcapngReader::timestamp(const Interface& ifc, uint64_t ts, Packet& p, std::string* why) const {
  // Units of 2^-exp or 10^-exp seconds: whole seconds, the rest truncated to
  // nanoseconds as libpcap does, and the fraction as finely as it is.
  uint64_t sec, rem;
  if (ifc.binary) {
    sec = ts >> ifc.exp;
    rem = ts & ((uint64_t{1} << ifc.exp) - 1);
    p.nsec = static_cast<int64_t>((rem * 1000000000u) >> ifc.exp);  // rem < 2^34: no overflow
    p.frac = std::ldexp(static_cast<long double>(rem), -static_cast<int>(ifc.exp));
    p.exact_ns = ifc.exp == 0;
  } else {
    const uint64_t per_s = kPow10[ifc.exp];
    sec = ts / per_s;
    rem = ts % per_s;
    p.exact_ns = ifc.exp <= 9;
    p.nsec = static_cast<int64_t>(p.exact_ns ? rem * kPow10[9 - ifc.exp] : rem / kPow10[ifc.exp - 9]);
    p.frac = static_cast<long double>(rem) / static_cast<long double>(per_s);
  }
  const Seconds s = static_cast<Seconds>(sec) + ifc.offset_s;
  if (s < INT64_MIN || s > INT64_MAX) {
    *why = fmt::format(
        "timestamp of {} s plus if_tsoffset {} s is outside a signed 64-bit count of seconds (libpcap wraps it "
        "around)",
        sec, ifc.offset_s);
    return false;
  }
  p.sec = static_cast<int64_t>(s);
  return true;
}

PcapngReader::Status PcapngReader::next(Packet& p, std::string* why) {
  while (true) {
    uint32_t type = 0;
    switch (read_block(&type, why)) {
      case Read::End: return Status::End;
      case Read::Truncated: return Status::Truncated;
      case Read::Damaged: return Status::Damaged;
      case Read::Ok: break;
    }
    const size_t body = payload();
    p = Packet{};
    size_t data_off = 0;
    uint64_t ts = 0;
    if (type == kEnhancedPacket || type == kObsoletePacket) {
      // interface (u32, or u16 + drops u16), timestamp high and low, caplen, origlen
      if (body < 20) {
        *why = fmt::format("packet block of {} bytes, under 32", body + 12);
        return Status::Damaged;
      }
      p.interface = type == kEnhancedPacket ? u32(0) : u16(0);
      ts = uint64_t{u32(4)} << 32 | u32(8);
      p.caplen = u32(12);
      p.origlen = u32(16);
      data_off = 20;
    } else if (type == kSimplePacket) {
      // origlen only: the first interface's, captured up to the snaplen, no timestamp.
      if (body < 4) {
        *why = fmt::format("Simple Packet Block of {} bytes, under 16", body + 12);
        return Status::Damaged;
      }
      p.origlen = u32(0);
      p.caplen = std::min(p.origlen, snapshot_);
      p.has_time = false;
      data_off = 4;
    } else if (type == kInterface) {
      if (body < 8) {
        *why = fmt::format("Interface Description Block of {} bytes, under 20", body + 12);
        return Status::Damaged;
      }
      // As libpcap: the file's first link type and snaplen for every
      // interface. (It compares this block's LINKTYPE_ with the first's
      // DLT_, so a second LINKTYPE_RAW interface is refused as well.)
      if (const int lt = u16(0); lt != dlt_) {
        *why = fmt::format("interface {} has link type {}, the file's first interface {}{} (one link type per capture)",
                           ifaces_.size(), lt, dlt_, lt == kLinktypeRaw ? " (LINKTYPE_RAW held as DLT_RAW)" : "");
        return Status::Damaged;
      }
      if (const uint32_t snap = adjust_snaplen(u32(4)); snap != snapshot_) {
        *why = fmt::format("interface {} has snaplen {}, the file's first interface {} (one snaplen per capture)",
                           ifaces_.size(), u32(4), snapshot_);
        return Status::Damaged;
      }
      if (!add_interface(why)) return Status::Damaged;
      continue;
    } else if (type == kSectionHeader) {
      // A new section, read in the file's byte order: the same one, major version 1.
      if (body < 16) {
        *why = fmt::format("Section Header Block of {} bytes, under 28", body + 12);
        return Status::Damaged;
      }
      if (const uint32_t magic = u32(0); magic != kByteOrderMagic) {
        *why = bswap32(magic) == kByteOrderMagic
                   ? std::string("a section in the other byte order (one byte order per capture)")
                   : fmt::format("Section Header Block has byte-order magic {:08x}, not 1a2b3c4d", magic);
        return Status::Damaged;
      }
      if (const uint16_t major = u16(4); major != 1) {
        *why = fmt::format("a section of pcapng major version {} (1 is read)", major);
        return Status::Damaged;
      }
      ifaces_.clear();  // interfaces belong to their section
      continue;
    } else {
      continue;  // a block that carries no packet
    }
    if (p.interface >= ifaces_.size()) {
      *why = fmt::format("packet on interface {}, but its section describes {}", p.interface, ifaces_.size());
      return Status::Damaged;
    }
    if (p.caplen > snapshot_) {
      *why = fmt::format("captured length {} above the snaplen {}", p.caplen, snapshot_);
      return Status::Damaged;
    }
    const Interface& ifc = ifaces_[p.interface];
    if (p.has_time) {
      if (!timestamp(ifc, ts, p, why)) return Status::Damaged;
    } else {
      p.sec = ifc.offset_s;
      p.exact_ns = true;
    }
    if (p.caplen > body - data_off) {
      *why = fmt::format("captured length {} runs past its block ({} bytes of data)", p.caplen, body - data_off);
      return Status::Damaged;
    }
    p.data = body_.data() + data_off;
    return Status::Packet;
  }
}

}  // namespace vringsim

#include "models/traffic/pcapng_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace vringsim {

namespace {
constexpr uint32_t kSectionHeader = 0x0a0d0d0a;
constexpr uint32_t kInterface = 1;
constexpr uint32_t kObsoletePacket = 2;
constexpr uint32_t kSimplePacket = 3;
constexpr uint32_t kEnhancedPacket = 6;
constexpr uint32_t kByteOrderMagic = 0x1a2b3c4d;
constexpr uint32_t kMaxBlock = 16u << 20;  ///< libpcap's limit too (MAX_BLOCKSIZE)
constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptTsresol = 9;
constexpr uint16_t kOptTsoffset = 14;

uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
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

PcapngReader::PcapngReader(std::FILE* fp) : fp_(fp) {
  std::string why;
  uint32_t type = 0;
  const Read r = read_block(&type, &why);
  if (r != Read::Ok || type != kSectionHeader)
    throw std::runtime_error(r == Read::Ok ? "the file does not start with a Section Header Block" : why);
  while (true) {
    const Read b = read_block(&type, &why);
    if (b == Read::End) throw std::runtime_error("no Interface Description Block before the end of the file");
    if (b != Read::Ok) throw std::runtime_error(why);
    if (type == kInterface) {
      if (!parse_interface(&why)) throw std::runtime_error(why);
      return;
    }
    if (type == kEnhancedPacket || type == kObsoletePacket || type == kSimplePacket)
      throw std::runtime_error("a packet block before any Interface Description Block");
  }
}

PcapngReader::Read PcapngReader::read_block(uint32_t* type, std::string* why) {
  uint32_t head[2];
  const size_t got = std::fread(head, 1, sizeof head, fp_);
  if (got == 0) return Read::End;
  if (got < sizeof head) {
    *why = fmt::format("truncated pcapng dump file; tried to read {} header bytes, only got {}", sizeof head, got);
    return Read::Truncated;
  }
  uint32_t t = head[0], len = head[1];
  if (t == kSectionHeader || bswap32(t) == kSectionHeader) {
    // A new section: its byte-order magic says how to read it all, this
    // block's length included.
    uint32_t magic = 0;
    if (std::fread(&magic, 1, 4, fp_) != 4) {
      *why = "truncated pcapng dump file; the Section Header Block ends before its byte-order magic";
      return Read::Truncated;
    }
    if (magic == kByteOrderMagic)
      swap_ = false;
    else if (bswap32(magic) == kByteOrderMagic)
      swap_ = true;
    else {
      *why = fmt::format("Section Header Block has byte-order magic {:08x}, not 1a2b3c4d", magic);
      return Read::Damaged;
    }
    t = kSectionHeader;
    len = swap_ ? bswap32(len) : len;
    if (len < 28 || len % 4 != 0 || len > kMaxBlock) {
      *why = fmt::format("Section Header Block in pcapng dump file has invalid length {}", len);
      return Read::Damaged;
    }
    body_.resize(4);
    std::memcpy(body_.data(), &magic, 4);
    const size_t rest = append_body(len - 12);
    if (rest < len - 12) {
      *why = fmt::format("truncated pcapng dump file; tried to read {} bytes, only got {}", len - 12, rest);
      return Read::Truncated;
    }
  } else {
    t = swap_ ? bswap32(t) : t;
    len = swap_ ? bswap32(len) : len;
    if (len < 12 || len % 4 != 0 || len > kMaxBlock) {
      *why = fmt::format("block of type {:#x} has invalid length {} (a multiple of 4 in 12..{})", t, len, kMaxBlock);
      return Read::Damaged;
    }
    body_.clear();
    const size_t rest = append_body(len - 8);
    if (rest < len - 8) {
      *why = fmt::format("truncated pcapng dump file; tried to read {} bytes, only got {}", len - 8, rest);
      return Read::Truncated;
    }
  }
  if (u32(body_.size() - 4) != len) {
    *why = fmt::format("block of type {:#x}: trailing length {} differs from its length {}", t,
                       u32(body_.size() - 4), len);
    return Read::Damaged;
  }
  *type = t;
  if (t == kSectionHeader && !parse_section(why)) return Read::Damaged;
  return Read::Ok;
}

size_t PcapngReader::append_body(size_t n) {
  constexpr size_t kChunk = 64 << 10;
  size_t got = 0;
  while (got < n) {
    const size_t want = std::min(n - got, kChunk);
    const size_t at = body_.size();
    body_.resize(at + want);
    const size_t r = std::fread(body_.data() + at, 1, want, fp_);
    got += r;
    if (r < want) {
      body_.resize(at + r);
      break;
    }
  }
  return got;
}

bool PcapngReader::parse_section(std::string* why) {
  // magic u32, major u16, minor u16, section length i64, options
  const uint16_t major = u16(4);
  if (major != 1) {
    *why = fmt::format("Section Header Block of pcapng version {}.{} (1.x is read)", major, u16(6));
    return false;
  }
  ifaces_.clear();  // interfaces belong to their section
  return true;
}

bool PcapngReader::parse_interface(std::string* why) {
  // linktype u16, reserved u16, snaplen u32, options; trailing length u32
  if (body_.size() < 12) {
    *why = "Interface Description Block too short";
    return false;
  }
  Interface ifc;
  ifc.linktype = u16(0);
  ifc.snaplen = u32(4);
  const size_t end = body_.size() - 4;
  for (size_t off = 8; off + 4 <= end;) {
    const uint16_t code = u16(off), olen = u16(off + 2);
    if (code == kOptEnd) break;
    if (off + 4 + olen > end) {
      *why = fmt::format("interface {}: option {} runs past its block", ifaces_.size(), code);
      return false;
    }
    if (code == kOptTsresol && olen >= 1) {
      const uint8_t r = body_[off + 4];
      ifc.binary = (r & 0x80) != 0;
      ifc.exp = r & 0x7f;
    } else if (code == kOptTsoffset && olen >= 8) {
      ifc.offset_s = static_cast<int64_t>(u64(off + 4));
    }
    off += 4 + ((olen + 3u) & ~3u);
  }
  if (linktype_ < 0) {
    linktype_ = ifc.linktype;
  } else if (ifc.linktype != linktype_) {
    *why = fmt::format("interface {} has link type {}, the first interface {} (one link type per capture)",
                       ifaces_.size(), ifc.linktype, linktype_);
    return false;
  }
  ifaces_.push_back(ifc);
  return true;
}

void PcapngReader::timestamp(const Interface& ifc, uint64_t ts, Packet& p) const {
  // Units of 2^-exp or 10^-exp seconds; split into whole seconds and a
  // fraction without losing the integer part (64-bit counts of fine units).
  uint64_t sec = 0, rem = ts;
  long double unit = 1;  // seconds per unit
  if (ifc.binary) {
    if (ifc.exp < 64) {
      sec = ts >> ifc.exp;
      rem = ifc.exp ? ts & ((uint64_t{1} << ifc.exp) - 1) : 0;
    }
    unit = std::ldexp(1.0L, -static_cast<int>(ifc.exp));
  } else {
    uint64_t per_s = 1;
    bool fits = true;
    for (uint32_t k = 0; k < ifc.exp; ++k) {
      if (per_s > UINT64_MAX / 10) {
        fits = false;
        break;
      }
      per_s *= 10;
    }
    if (fits) {
      sec = ts / per_s;
      rem = ts % per_s;
    }
    unit = std::pow(10.0L, -static_cast<long double>(ifc.exp));
    p.exact_ns = ifc.exp <= 9;
    if (p.exact_ns) {
      uint64_t scale = 1;
      for (uint32_t k = ifc.exp; k < 9; ++k) scale *= 10;
      p.nsec = static_cast<int64_t>(rem * scale);
    }
  }
  p.sec = static_cast<Seconds>(sec) + ifc.offset_s;
  p.frac = static_cast<long double>(rem) * unit;
  if (!p.exact_ns) p.nsec = static_cast<int64_t>(p.frac * 1e9L);
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
    const size_t body = body_.size() - 4;  // without the trailing length
    if (type == kInterface) {
      if (!parse_interface(why)) return Status::Damaged;
      continue;
    }
    if (type != kEnhancedPacket && type != kObsoletePacket && type != kSimplePacket) continue;
    if (ifaces_.empty()) {
      *why = "a packet block before any Interface Description Block in its section";
      return Status::Damaged;
    }
    p = Packet{};
    size_t data_off = 0;
    if (type == kSimplePacket) {
      // No interface id and no timestamp: a timeline cannot be built from it.
      *why = "a Simple Packet Block carries no timestamp";
      return Status::Damaged;
    }
    if (body < 20) {
      *why = fmt::format("packet block of {} bytes is too short", body + 12);
      return Status::Damaged;
    }
    if (type == kEnhancedPacket) {
      p.interface = u32(0);
    } else {
      p.interface = u16(0);  // interface u16, drops u16
    }
    const uint64_t ts = uint64_t{u32(4)} << 32 | u32(8);
    p.caplen = u32(12);
    p.origlen = u32(16);
    data_off = 20;
    if (p.interface >= ifaces_.size()) {
      *why = fmt::format("packet on interface {}, but the section describes {}", p.interface, ifaces_.size());
      return Status::Damaged;
    }
    if (p.caplen > body - data_off) {
      *why = fmt::format("captured length {} runs past its block ({} bytes of data)", p.caplen, body - data_off);
      return Status::Damaged;
    }
    timestamp(ifaces_[p.interface], ts, p);
    p.data = body_.data() + data_off;
    return Status::Packet;
  }
}

}  // namespace vringsim

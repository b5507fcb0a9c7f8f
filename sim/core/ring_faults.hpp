// A misbehaving driver (fault injection): faulty chains made the way a buggy
// or malicious guest would make them, by writing bad values into the ring's
// shared memory. Beside the ring, not inside it: the rings only offer the
// writes a driver can do (split: SplitRing::write_shared_desc, add_raw_avail,
// write_shared_table_entry; packed: PackedRing::write_chain_desc,
// write_shared_table_entry). What those writes leave in a split ring's shared
// memory is kept here too (SplitRingFaults), out of the ring's hot path.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/core/split_ring.hpp"
#include "sim/core/vring_types.hpp"

namespace vringsim {

class PackedRing;
class VirtQueue;

/// A split ring's shared memory where a faulty driver wrote over what it
/// recorded, the stray avail entries it added, and the device's scratch for
/// walking chains such writes may have broken. The ring makes it at the
/// first fault and holds it by one pointer: a run without faults has neither
/// the copies nor the scratch. The ring's own record (its desc_ and table_)
/// stays what the driver meant, as Linux keeps desc_extra apart from the
/// shared table; the device reads the copies here wherever they exist.
struct SplitRingFaults {
  /// Marks on 0..n-1 that clear all at once: a mark is the number of the
  /// pass that made it, so clear() is O(1) (the marks are refilled only when
  /// that number wraps).
  class Marks {
   public:
    explicit Marks(uint32_t n) : pass_of_(n, 0) {}
    void clear() {
      if (++pass_ == 0) {
        std::fill(pass_of_.begin(), pass_of_.end(), 0);
        pass_ = 1;
      }
    }
    bool marked(uint32_t i) const { return pass_of_[i] == pass_; }
    void mark(uint32_t i) { pass_of_[i] = pass_; }
    /// Marks `i`; whether it was marked in this pass already.
    bool test_and_mark(uint32_t i) {
      const bool was = marked(i);
      mark(i);
      return was;
    }

   private:
    std::vector<uint32_t> pass_of_;
    uint32_t pass_ = 1;
  };

  explicit SplitRingFaults(uint32_t num)
      : tampered(num, 0), shadow(num), table_tampered(num, 0), table_shadow(num), seen(num), heads(num) {}

  /// Descriptor `i` as the device reads it: what the driver wrote over it, or its record.
  const Descriptor& desc(uint16_t i, const Descriptor& record) const { return tampered[i] ? shadow[i] : record; }
  /// The indirect table of the chain at `head` as the device reads it.
  const std::vector<Descriptor>& table(uint16_t head, const std::vector<Descriptor>& record) const {
    return table_tampered[head] ? table_shadow[head] : record;
  }
  void write_desc(uint16_t i, const Descriptor& d) {
    ++writes;
    shadow[i] = d;
    tampered[i] = 1;
  }
  /// Writes entry `k` of the table of `head`, over a copy of `record` at the first write.
  void write_table_entry(uint16_t head, uint32_t k, const Descriptor& d, const std::vector<Descriptor>& record) {
    ++writes;
    if (!table_tampered[head]) table_shadow[head] = record;
    table_shadow[head][k] = d;
    table_tampered[head] = 1;
  }
  /// The driver wrote descriptor `i`, or the table of `head`, afresh
  /// (add_inbuf): the device reads what it recorded again.
  void desc_rewritten(uint16_t i) { tampered[i] = 0; }
  void table_rewritten(uint16_t head) { table_tampered[head] = 0; }

  std::vector<uint8_t> tampered;  ///< 1 where shadow[i] is what the device reads
  std::vector<Descriptor> shadow;
  std::vector<uint8_t> table_tampered;  ///< 1 where table_shadow[head] is
  std::vector<std::vector<Descriptor>> table_shadow;
  /// Writes into descriptors or tables so far. While none was made every
  /// chain is as add_inbuf() wrote it (no loop, no read-only or
  /// out-of-range link): the device's check needs no walk.
  uint64_t writes = 0;
  /// Avail entries naming no chain of their own (add_raw_avail), not yet consumed.
  uint32_t strays = 0;
  Marks seen;                       ///< the device's loop check of a chain in the ring's table
  Marks heads;                      ///< heads SplitRing::avail_bytes_upto counted (a head named twice counts once)
  std::vector<uint8_t> table_seen;  ///< the device's loop check of an indirect table
};

/// Makes the posted chain at `head` faulty in the device's view: kinds Loop,
/// NextOutOfRange, ZeroLength, ReadOnly, BadIndirect (the driver's own
/// record stays right).
void tamper(SplitRing& ring, uint16_t head, ChainFault kind);
/// The same for the posted packed chain with Buffer ID `id`: a chain of
/// consecutive slots with no links can get a length, the write flag or an
/// indirect table wrong (packed_fault_injectable()).
void tamper(PackedRing& ring, uint16_t id, ChainFault kind);
void tamper(VirtQueue& ring, uint16_t head, ChainFault kind);

/// Adds an avail entry naming `head` with no chain of its own: HeadInFlight
/// (a head added twice) or, with an index past the table, HeadOutOfRange.
/// False if the avail ring has no room. Split rings only.
inline bool add_stray_avail(SplitRing& ring, uint16_t head) { return ring.add_raw_avail(head); }
bool add_stray_avail(VirtQueue& ring, uint16_t head);

}  // namespace vringsim

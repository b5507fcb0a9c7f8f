// A misbehaving driver (fault injection): faulty chains made the way a buggy
// or malicious guest would make them, by writing bad values into the ring's
// shared memory. Beside the ring, not inside it: the rings only offer the
// writes a driver can do (split: SplitRing::write_shared_desc, add_raw_avail,
// write_shared_table_entry; packed: PackedRing::write_chain_desc,
// write_shared_table_entry).
#pragma once

#include <cstdint>

#include "sim/core/virtqueue.hpp"

namespace vringsim {

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

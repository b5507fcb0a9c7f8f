// A misbehaving driver (fault injection): faulty chains made the way a buggy
// or malicious guest would make them, by writing bad values into the ring's
// shared memory. Beside the ring, not inside it: the virtqueue only offers
// the two writes a driver can do (VirtQueue::write_shared_desc, add_raw_avail).
#pragma once

#include <cstdint>

#include "sim/core/virtqueue.hpp"

namespace vringsim {

/// Makes the posted chain at `head` faulty in the device's view: kinds Loop,
/// NextOutOfRange, ZeroLength, ReadOnly (the driver's own record stays right).
void tamper(VirtQueue& ring, uint16_t head, ChainFault kind);

/// Adds an avail entry naming `head` with no chain of its own: HeadInFlight
/// (a head added twice) or, with an index past the table, HeadOutOfRange.
/// False if the avail ring has no room.
inline bool add_stray_avail(VirtQueue& ring, uint16_t head) { return ring.add_raw_avail(head); }

}  // namespace vringsim

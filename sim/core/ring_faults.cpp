#include "sim/core/ring_faults.hpp"

#include <string>

#include "sim/core/errors.hpp"
#include "sim/core/packed_ring.hpp"
#include "sim/core/virtqueue.hpp"

namespace vringsim {

namespace {
/// The same faults inside an indirect table: the device reads the table.
void tamper_table(SplitRing& ring, uint16_t head, ChainFault kind) {
  const auto& t = ring.table(head);
  const uint32_t tail = static_cast<uint32_t>(t.size() - 1);
  switch (kind) {
    case ChainFault::Loop: {
      Descriptor d = t[tail];
      d.flags |= kVringDescFNext;
      d.next = 0;
      ring.write_shared_table_entry(head, tail, d);
      break;
    }
    case ChainFault::NextOutOfRange: {
      Descriptor d = t[tail];
      d.flags |= kVringDescFNext;
      d.next = static_cast<uint16_t>(t.size());  // one past the table
      ring.write_shared_table_entry(head, tail, d);
      break;
    }
    case ChainFault::ZeroLength: {
      Descriptor d = t[0];
      d.len = 0;
      ring.write_shared_table_entry(head, 0, d);
      break;
    }
    case ChainFault::ReadOnly: {
      Descriptor d = t[0];
      d.flags &= static_cast<uint16_t>(~kVringDescFWrite);
      ring.write_shared_table_entry(head, 0, d);
      break;
    }
    case ChainFault::BadIndirect: {
      Descriptor d = ring.desc(head);
      d.len -= kDescriptorBytes / 2;  // not a whole number of entries
      ring.write_shared_desc(head, d);
      break;
    }
    default: throw InvariantError(std::string("cannot tamper a table into ") + chain_fault_name(kind));
  }
}
}  // namespace

void tamper(SplitRing& ring, uint16_t head, ChainFault kind) {
  ensure(head < ring.size() && ring.state(head) == DescState::Posted, "tampering with a chain that is not posted");
  if (ring.desc(head).flags & kVringDescFIndirect) return tamper_table(ring, head, kind);
  const uint16_t tail = ring.chain_tail(head);
  switch (kind) {
    case ChainFault::Loop: {
      Descriptor d = ring.desc(tail);
      d.flags |= kVringDescFNext;
      d.next = head;
      ring.write_shared_desc(tail, d);
      break;
    }
    case ChainFault::NextOutOfRange: {
      Descriptor d = ring.desc(tail);
      d.flags |= kVringDescFNext;
      d.next = 0xffff;  // past any table: sizes stop at 32768
      ring.write_shared_desc(tail, d);
      break;
    }
    case ChainFault::ZeroLength: {
      Descriptor d = ring.desc(head);
      d.len = 0;
      ring.write_shared_desc(head, d);
      break;
    }
    case ChainFault::ReadOnly: {
      Descriptor d = ring.desc(head);
      d.flags &= static_cast<uint16_t>(~kVringDescFWrite);
      ring.write_shared_desc(head, d);
      break;
    }
    case ChainFault::BadIndirect: {
      // A descriptor marked indirect whose "table" is half an entry long.
      Descriptor d = ring.desc(head);
      d.flags = kVringDescFIndirect;
      d.len = kDescriptorBytes / 2;
      ring.write_shared_desc(head, d);
      break;
    }
    default: throw InvariantError(std::string("cannot tamper a chain into ") + chain_fault_name(kind));
  }
}

void tamper(PackedRing& ring, uint16_t id, ChainFault kind) {
  const bool table = ring.table_bytes(id) > 0;
  PackedDesc d = ring.chain_desc(id, 0);
  if (table && kind != ChainFault::BadIndirect) {
    Descriptor e = ring.table(id)[0];
    if (kind == ChainFault::ZeroLength) e.len = 0;
    else if (kind == ChainFault::ReadOnly) e.flags &= static_cast<uint16_t>(~kVringDescFWrite);
    else throw InvariantError(std::string("cannot tamper a packed table into ") + chain_fault_name(kind));
    ring.write_shared_table_entry(id, 0, e);
    return;
  }
  switch (kind) {
    case ChainFault::ZeroLength: d.len = 0; break;
    case ChainFault::ReadOnly: d.flags &= static_cast<uint16_t>(~kVringDescFWrite); break;
    case ChainFault::BadIndirect:
      if (table) {
        d.len -= kDescriptorBytes / 2;  // not a whole number of entries
      } else {
        d.flags |= kVringDescFIndirect;  // a "table" half an entry long (or chained with NEXT)
        d.len = kDescriptorBytes / 2;
      }
      break;
    default: throw InvariantError(std::string("cannot tamper a packed chain into ") + chain_fault_name(kind));
  }
  ring.write_chain_desc(id, 0, d);
}

void tamper(VirtQueue& ring, uint16_t head, ChainFault kind) {
  if (SplitRing* s = ring.split_ring()) return tamper(*s, head, kind);
  tamper(*ring.packed_ring(), head, kind);
}

bool add_stray_avail(VirtQueue& ring, uint16_t head) {
  SplitRing* s = ring.split_ring();
  ensure(s != nullptr, "a stray avail entry on a packed ring (it has no avail ring)");
  return add_stray_avail(*s, head);
}

}  // namespace vringsim

#include "sim/core/ring_faults.hpp"

#include <string>

#include "sim/core/errors.hpp"

namespace vringsim {

namespace {
/// The same faults inside an indirect table: the device reads the table.
void tamper_table(VirtQueue& ring, uint16_t head, ChainFault kind) {
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

void tamper(VirtQueue& ring, uint16_t head, ChainFault kind) {
  ensure(head < ring.size() && ring.state(head) == DescState::Posted, "tampering with a chain that is not posted");
  if (ring.desc(head).flags & kVringDescFIndirect) return tamper_table(ring, head, kind);
  uint16_t tail = head;
  for (uint32_t n = 0; ring.desc(tail).flags & kVringDescFNext; ++n) {
    ensure(n < ring.size(), "descriptor chain loops");
    tail = ring.desc(tail).next;
  }
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

}  // namespace vringsim

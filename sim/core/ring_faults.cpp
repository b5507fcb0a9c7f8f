#include "sim/core/ring_faults.hpp"

#include <string>

#include "sim/core/errors.hpp"

namespace vringsim {

void tamper(VirtQueue& ring, uint16_t head, ChainFault kind) {
  ensure(head < ring.size() && ring.state(head) == DescState::Posted, "tampering with a chain that is not posted");
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
    default: throw InvariantError(std::string("cannot tamper a chain into ") + chain_fault_name(kind));
  }
}

}  // namespace vringsim

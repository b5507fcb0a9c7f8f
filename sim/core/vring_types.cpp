#include "sim/core/vring_types.hpp"

namespace vringsim {

const char* desc_state_name(DescState s) {
  switch (s) {
    case DescState::Free: return "free";
    case DescState::Posted: return "posted";
    case DescState::Device: return "device";
    case DescState::Used: return "used";
  }
  return "?";
}

const char* chain_fault_name(ChainFault f) {
  switch (f) {
    case ChainFault::None: return "none";
    case ChainFault::HeadOutOfRange: return "head_out_of_range";
    case ChainFault::HeadInFlight: return "head_in_flight";
    case ChainFault::Loop: return "loop";
    case ChainFault::TooLong: return "too_long";
    case ChainFault::NextOutOfRange: return "next_out_of_range";
    case ChainFault::ZeroLength: return "zero_length";
    case ChainFault::ReadOnly: return "read_only";
    case ChainFault::BadIndirect: return "bad_indirect";
  }
  return "?";
}

std::optional<ChainFault> chain_fault_from_name(std::string_view name) {
  for (int k = 1; k < kChainFaults; ++k)
    if (name == chain_fault_name(static_cast<ChainFault>(k))) return static_cast<ChainFault>(k);
  return std::nullopt;
}

}  // namespace vringsim

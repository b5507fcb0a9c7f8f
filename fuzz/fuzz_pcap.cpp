// libFuzzer target: the capture reader (pcap through libpcap, pcapng through
// our reader, our length, link-type and header handling). Any bytes: records
// or an InputError naming the packet. fuzz_pcap_diff checks the same reader
// against libpcap.
#include "fuzz/fuzz_file_common.hpp"
#include "models/traffic/capture_file.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/traffic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vringsim;
  const std::string f = fuzz::input_file(data, size, ".pcap");
  try {
    CaptureFile c(f, size % 2 ? "tcp" : "");
    while (auto r = c.next()) {
      if (r->wire_len == 0 || r->wire_len > kMaxTraceFrameBytes) __builtin_trap();
    }
  } catch (const InputError&) {
  }
  return 0;
}

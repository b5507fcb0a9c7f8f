// libFuzzer target (issue 35): the same bytes read by libpcap and by
// vringsim's capture reader (tests/pcap/libpcap_diff.hpp). It aborts on any
// disagreement that is not one of the documented refusals (docs/contract.md,
// "Captures read as libpcap reads them"): reading what libpcap refuses,
// refusing what it reads for an undocumented reason, or reading a packet's
// length or timestamp differently.
#include <cstdio>

#include "fuzz/fuzz_file_common.hpp"
#include "tests/pcap/libpcap_diff.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vringsim;
  const std::string f = fuzz::input_file(data, size, ".pcapng");
  const pcapdiff::Verdict v = pcapdiff::compare(pcapdiff::read_libpcap(f), pcapdiff::read_vringsim(f));
  if (v.outcome == pcapdiff::Outcome::Disagree) {
    std::fprintf(stderr, "fuzz_pcap_diff: disagreement: %s\n", v.what.c_str());
    __builtin_trap();
  }
  return 0;
}

// Every capture in the tree (tests/, scenarios/, fuzz/corpus/) and every
// hand-built one (tests/pcap/make_captures.py) read by libpcap and by
// vringsim (tests/pcap/libpcap_diff.hpp): each must agree, or be listed by
// file name in tests/pcap/differences.txt with the documented reason
// vringsim refuses it for. A listed file that agrees fails too (the list
// would hide a later change).
//
// Usage: pcap_diff_test SOURCE_DIR GENERATED_DIR DIFFERENCES_FILE
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "tests/pcap/libpcap_diff.hpp"

namespace fs = std::filesystem;
using namespace vringsim::pcapdiff;

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

/// "file name | key" lines; '#' starts a comment line.
std::map<std::string, std::string> load_differences(const fs::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot read");
  std::string line;
  while (std::getline(in, line)) {
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    const auto bar = line.find('|');
    if (bar == std::string::npos) throw std::runtime_error(file.string() + ": no '|' in: " + line);
    out[trim(line.substr(0, bar))] = trim(line.substr(bar + 1));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: pcap_diff_test SOURCE_DIR GENERATED_DIR DIFFERENCES_FILE\n";
    return 2;
  }
  const fs::path src = argv[1], generated = argv[2];
  std::map<std::string, std::string> listed;
  try {
    listed = load_differences(argv[3]);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::set<std::string> known_keys;
  for (const Documented& d : kDocumented) known_keys.insert(d.key);
  for (const auto& [name, key] : listed)
    if (!known_keys.count(key)) {
      std::cerr << "differences.txt: " << name << ": unknown reason \"" << key << "\"\n";
      return 2;
    }

  std::vector<fs::path> files;
  size_t generated_count = 0;
  for (const fs::path& dir : {src / "tests", src / "scenarios", src / "fuzz" / "corpus", generated}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".pcap" && ext != ".pcapng")) continue;
      files.push_back(e.path());
      generated_count += dir == generated;
    }
  }
  std::sort(files.begin(), files.end());
  if (generated_count < 50) {
    std::cerr << generated << ": " << generated_count << " hand-built captures, expected at least 50 "
              << "(tests/pcap/make_captures.py writes them)\n";
    return 2;
  }

  int agree = 0, documented = 0, failed = 0;
  std::set<std::string> seen;
  for (const fs::path& f : files) {
    const std::string name = f.filename().string();
    seen.insert(name);
    const Verdict v = compare(read_libpcap(f.string()), read_vringsim(f.string()));
    const auto it = listed.find(name);
    const std::string rel = f.lexically_relative(f.string().starts_with(generated.string()) ? generated.parent_path()
                                                                                           : src)
                                .string();
    std::string problem;
    if (v.outcome == Outcome::Disagree)
      problem = "disagrees with libpcap: " + v.what;
    else if (v.outcome == Outcome::Agree && it != listed.end())
      problem = "listed as a documented difference (" + it->second + ") but agrees with libpcap";
    else if (v.outcome == Outcome::Documented && it == listed.end())
      problem = "refused for a documented reason (" + v.key + ") but not listed in differences.txt: " + v.what;
    else if (v.outcome == Outcome::Documented && it->second != v.key)
      problem = "listed as " + it->second + " but refused for " + v.key + ": " + v.what;
    if (!problem.empty()) {
      std::cout << "FAIL " << rel << ": " << problem << "\n";
      ++failed;
    } else if (v.outcome == Outcome::Documented) {
      std::cout << "ok   " << rel << ": documented difference " << v.key << "\n";
      ++documented;
    } else {
      std::cout << "ok   " << rel << ": agrees\n";
      ++agree;
    }
  }
  for (const auto& [name, key] : listed)
    if (!seen.count(name)) {
      std::cout << "FAIL differences.txt lists " << name << " (" << key << "), which is no capture here\n";
      ++failed;
    }
  std::cout << fmt::format("pcap diff: {} captures, {} agree with libpcap, {} documented differences\n", files.size(),
                           agree, documented);
  std::cout << fmt::format("{} passed, {} failed\n", agree + documented, failed);
  return failed ? 1 : 0;
}

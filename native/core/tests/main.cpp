// Runs every registered test, or those whose names contain argv[1]; `--list` prints the names.
#include <cstring>

#include "check.h"

int main(int argc, char** argv) {
  using namespace sitempi::test;
  if (argc > 1 && !std::strcmp(argv[1], "--list")) {
    for (const Case& c : registry()) std::printf("%s\n", c.name);
    return 0;
  }
  int run = 0, failed_tests = 0;
  for (const Case& c : registry()) {
    if (argc > 1 && !std::strstr(c.name, argv[1])) continue;
    const int before = failures();
    c.fn();
    ++run;
    const bool ok = failures() == before;
    if (!ok) ++failed_tests;
    std::printf("%s %s\n", ok ? "ok" : "FAIL", c.name);
  }
  std::printf("%d tests, %d failed, %d failed checks\n", run, failed_tests, failures());
  return failed_tests || run == 0 ? 1 : 0;
}

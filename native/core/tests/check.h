// A minimal test harness for the native/core unit tests (no framework to download): TEST(name)
// registers a function, CHECK/CHECK_EQ record a failure with file and line and let the test go on.
// The binary prints one line per test and exits 1 if any check failed (test/native/core.test.ts
// runs it).
#pragma once
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace sitempi::test {

struct Case {
  const char* name;
  void (*fn)();
};
inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}
inline int& failures() {
  static int n = 0;
  return n;
}
struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::printf("  FAILED %s:%d: %s\n", file, line, what.c_str());
}

template <typename A, typename B>
void check_eq(const A& a, const B& b, const char* ea, const char* eb, const char* file, int line) {
  if (a == b) return;
  std::ostringstream s;
  s << ea << " == " << eb << " (" << +a << " vs " << +b << ")";
  fail(file, line, s.str());
}
inline void check_eq(const std::string& a, const std::string& b, const char* ea, const char* eb, const char* file,
                     int line) {
  if (a != b) fail(file, line, std::string(ea) + " == " + eb + " (\"" + a + "\" vs \"" + b + "\")");
}

}  // namespace sitempi::test

#define TEST(name)                                                      \
  static void name();                                                   \
  static const ::sitempi::test::Register register_##name(#name, &name); \
  static void name()
#define CHECK(cond) ((cond) ? void() : ::sitempi::test::fail(__FILE__, __LINE__, "CHECK(" #cond ")"))
#define CHECK_EQ(a, b) ::sitempi::test::check_eq((a), (b), #a, #b, __FILE__, __LINE__)

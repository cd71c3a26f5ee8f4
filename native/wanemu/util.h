// wanemu's small shared pieces: the monotonic clock, logging to stderr, JSON string quoting and
// the parsers of command words.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace wanemu {

// CLOCK_MONOTONIC in nanoseconds: packet arrival times and downtimes.
int64_t now_ns();

extern bool g_verbose;  // --verbose: log node changes and failed writes
void logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

std::string json_str(const std::string& s);
std::string err_json(const std::string& msg);

std::vector<std::string> split_ws(const std::string& s);
bool parse_u64(const std::string& s, uint64_t& v);
bool parse_double(const std::string& s, double& v);  // >= 0
// Node, site, netns and interface names: 1..64 of [A-Za-z0-9._-].
bool valid_name(const std::string& s);
std::string ip_str(uint32_t ip);  // host order

}  // namespace wanemu

// SPDX-License-Identifier: Apache-2.0
// inet_pton() on a length-delimited string. inet_pton reads a C string, so text with an embedded NUL
// ("10.0.0.1\0anything") would be judged by its prefix alone and accepted: every address parser in the project
// goes through InetPton, which refuses such text.
#pragma once

#include <arpa/inet.h>

#include <cstring>
#include <string_view>

namespace netmon {

// 1 if `text` is an address of family `af` (AF_INET or AF_INET6), written to `dst`; 0 otherwise.
inline int InetPton(int af, std::string_view text, void* dst) {
  // The longest IPv6 literal (with an embedded IPv4 tail) is 45 characters.
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.size() >= sizeof(buf) || text.find('\0') != std::string_view::npos) return 0;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return inet_pton(af, buf, dst) == 1 ? 1 : 0;
}

}  // namespace netmon

// SPDX-License-Identifier: Apache-2.0
// A client's string quoted inside an error message, bounded. gRPC carries the status message in a trailer, and a
// peer refuses trailers past its metadata limit (8 KiB by default), so an error that echoed a 4 MB session id
// would reach the caller as INTERNAL or RESOURCE_EXHAUSTED instead of its own code. Every error that quotes
// what a client sent goes through QuoteUntrusted.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace netmon {

// `"<at most max bytes of s>"`: printable ASCII as is, `"` and `\` escaped, any other byte as \xNN (so the
// message stays valid UTF-8 and one line). A longer string is cut and says how long it was:
// `"abc..." (4194304 bytes)`.
std::string QuoteUntrusted(std::string_view s, size_t max = 64);

}  // namespace netmon

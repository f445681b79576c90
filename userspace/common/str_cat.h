// SPDX-License-Identifier: Apache-2.0
// netmon::StrCat joins anything that streams into a std::string. Debian's abseil is built with its own
// absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::StrCat rejects std::string_view; the project
// uses this one everywhere instead.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace netmon {

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream out;
  ((out << args), ...);
  return out.str();
}

}  // namespace netmon

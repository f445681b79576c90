// SPDX-License-Identifier: Apache-2.0
#include "join/event.h"

namespace netmon::join {

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kConnect: return "CONNECT";
    case EventType::kAccept: return "ACCEPT";
    case EventType::kClose: return "CLOSE";
    case EventType::kData: return "DATA";
    case EventType::kDnsQuery: return "DNS_QUERY";
    case EventType::kDnsResponse: return "DNS_RESPONSE";
  }
  return "DATA";
}

}  // namespace netmon::join

// SPDX-License-Identifier: Apache-2.0
// The four netmon-trafficgen modes. Each returns the process exit status (0 on success; failures exit with 2
// through Fail()).
#pragma once

#include "testenv/trafficgen/options.h"

namespace netmon::trafficgen {

// Settings every mode shares.
struct Common {
  int timeout_ms = 10000;
};

int TcpConnect(const Options& opts, const Common& common);
int TcpServe(const Options& opts, const Common& common);
int UdpSend(const Options& opts, const Common& common);
int UdpServe(const Options& opts, const Common& common);

// Reads a required endpoint option or exits with a usage error.
struct Endpoint;
Endpoint RequireEndpoint(const Options& opts, const char* key, bool allow_no_port);
// Reads a non-negative integer option or exits with a usage error.
int64_t IntOption(const Options& opts, const char* key, int64_t fallback);

}  // namespace netmon::trafficgen

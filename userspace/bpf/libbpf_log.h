// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace netmon::bpf {

// Routes libbpf's print callback through the project's logger (warnings as warn, info as debug, debug as debug
// only when the level is debug). Idempotent.
void RouteLibbpfLog();

}  // namespace netmon::bpf

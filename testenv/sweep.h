// SPDX-License-Identifier: Apache-2.0
// Removal of what a crashed or killed earlier run left behind: "nmt-" namespaces whose owner process is gone, and
// the processes still inside them. Namespaces of test binaries that are running right now are never touched.
#pragma once

#include <string>
#include <vector>

namespace netmon::testenv {

// Names of the "nmt-" namespaces that SweepLeftovers would remove now.
std::vector<std::string> LeftoverNetns();

// For every leftover namespace: SIGKILL the processes whose /proc/PID/ns/net is that namespace, wait for them, and
// delete the namespace (its veths go with it). Logs what it removed; failures are logged, never fatal, so a test
// binary still starts. Call it once at start-up (SweepEnvironment does).
void SweepLeftovers();

// "nmt-<getpid()>-…" namespaces that exist in /run/netns right now (a leak check: empty once every Netns of this
// process is destroyed).
std::vector<std::string> OwnNetnsOnDisk();

}  // namespace netmon::testenv

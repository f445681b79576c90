// SPDX-License-Identifier: Apache-2.0
// The whole test environment in one include: namespaces, the two-host topology, processes, the DNS server,
// the traffic generator, the scapy helpers, and the leftover sweep.
#pragma once

#include "testenv/command.h"
#include "testenv/dns_server.h"
#include "testenv/netns.h"
#include "testenv/process.h"
#include "testenv/scapy.h"
#include "testenv/sweep.h"
#include "testenv/topology.h"
#include "testenv/trafficgen.h"

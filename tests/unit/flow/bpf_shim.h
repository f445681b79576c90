// SPDX-License-Identifier: Apache-2.0
// Lets the pure BPF headers (netmon/dns.bpf.h, netmon/filter.bpf.h) compile as C++ for unit tests: they use
// only abi.h types and __always_inline.
#pragma once

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline
#endif

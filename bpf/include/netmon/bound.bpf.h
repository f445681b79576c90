/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * netmon_bound(v, mask): v & mask, done in asm in BPF code so clang cannot prove it a no-op and drop it.
 * Callers use it where v <= mask already holds: it changes no value, only what the verifier knows (bounds
 * [0, mask] whatever path led here), which lets it prune loop rounds and layers reached along different
 * paths. Plain C outside BPF, so headers using it also compile as C++ for unit tests.
 */
#ifndef NETMON_BOUND_BPF_H
#define NETMON_BOUND_BPF_H

static __always_inline __u32 netmon_bound(__u32 v, const __u32 mask)
{
#if defined(__bpf__)
	__u64 r = v;
	asm volatile("%[r] &= %[m]" : [r] "+r"(r) : [m] "i"(mask));
	return (__u32)r;
#else
	return v & mask;
#endif
}

#endif /* NETMON_BOUND_BPF_H */

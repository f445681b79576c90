#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""netmon's benchmarks (docs/architecture.md §8), all in one run, written to results.json + table.md + plot.png.

  bench/run.sh [--smoke] [--reps N] [--seconds S] [--only SECTIONS] [--out DIR]

Sections, in the order they run:
  packet_cost  per-packet cost of each TC/XDP program next to an empty program (netmon_packet_cost, test-run)
  pipeline     events/s join -> gRPC client (netmon_bench_pipeline), direct vs through netmon-agent
               (netmon-agent-bench), resident memory per retained event
  correlate    netmon-correlate's own benchmark driver (bench/correlate), when it is built
  coldstart    netmon-server from exec to the first StartCapture answered (one interface, lo), CPU seconds, and
               what each BPF program cost to verify (GetStatus: verifier steps, load time)
  latency      capture start latency against the real netmon-server: StartCapture -> attached -> first event
  overhead     throughput of four loads between testenv namespaces under five conditions (nothing; netmon
               capture, no filter; netmon capture, PID filter; tcpdump -w; bpftrace bytes per process),
               interleaved, as median ratios to the baseline of the same repetition, plus each monitor's CPU
  bpf_stats    run_time_ns/run_cnt of every eBPF program per load (stats on only here, so they do not tax the
               timed rounds), next to an empty TC program on the same interface
  loss         per load, paced at rising fractions of its baseline rate under a no-filter capture: the highest
               rate with zero lost or unattributed events, and the loss counters above it

Benchmarks are not tests; --smoke runs every section for a moment and only checks that it produced numbers
(the bench-smoke CTest entry). Everything started here is stopped by PID on every exit path, Ctrl-C included;
the namespaces go with netmon-demo-env, TC filters with the namespace, programs with netmon-server.
"""

import argparse
import contextlib
import ctypes
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

LOADS = ["bulk_tcp", "udp_small", "tcp_churn", "dns"]
LOAD_INFO = {
    "bulk_tcp": ("bulk TCP (iperf3, 1 stream)", "Gbit/s"),
    "udp_small": ("small-packet UDP (iperf3 -u -l 64)", "packets/s"),
    "tcp_churn": ("TCP connect-send-close", "connections/s"),
    "dns": ("DNS queries to dnsmasq", "answers/s"),
}
CONDITIONS = ["baseline", "netmon", "netmon_pid", "tcpdump", "bpftrace"]
COND_INFO = {
    "baseline": "nothing attached",
    "netmon": "netmon capture, no filter",
    "netmon_pid": "netmon capture, PID filter (another process)",
    "tcpdump": "tcpdump -w",
    "bpftrace": "bpftrace bytes/process",
}
# Capture counters that describe traffic rather than loss (a DNS query nobody answered is the server's doing).
INFO_COUNTERS = {"join.dns_unanswered", "kernel.dns_truncated"}

PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None, use_errno=True)


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# --- processes ------------------------------------------------------------------------------------------------------

class Procs:
    """Every process this run starts, stopped by PID (never by name) on every exit path."""

    def __init__(self):
        self.live = []
        self.logdir = None
        self.count = 0

    def spawn(self, argv, ns=None, deathsig=signal.SIGKILL, **kw):
        log_path = None
        if "stderr" not in kw and self.logdir:
            # A pipe nobody reads would fill up and stall a long-running tool: stderr goes to a file instead.
            self.count += 1
            log_path = os.path.join(self.logdir, "%02d-%s.stderr" % (self.count, os.path.basename(argv[0])))
            kw["stderr"] = open(log_path, "w")
        if ns:
            # `ip netns exec` execs the command in place: the PID is the tool's, and PDEATHSIG survives the exec.
            argv = ["ip", "netns", "exec", ns] + list(argv)

        def child():
            LIBC.prctl(PR_SET_PDEATHSIG, int(deathsig), 0, 0, 0)
            os.setpgrp()  # Ctrl-C reaches the driver only; it stops the children in order

        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        try:
            p = subprocess.Popen(argv, preexec_fn=child, text=True, **kw)
        finally:
            if log_path:
                kw["stderr"].close()
        p.log_path = log_path
        self.live.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p is None:
            return
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                log("pid %d did not stop in %d s; SIGKILL" % (p.pid, timeout))
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                p.wait()
        if p in self.live:
            self.live.remove(p)

    def stop_all(self):
        for p in reversed(list(self.live)):
            self.stop(p)


PROCS = Procs()


def run(argv, ns=None, timeout=120, check=True):
    """Runs a command to completion (bounded); returns stdout."""
    p = PROCS.spawn(argv, ns=ns, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        PROCS.stop(p, signal.SIGKILL)
        raise BenchError("%s: no answer in %d s" % (" ".join(argv), timeout))
    PROCS.live.remove(p)
    if check and p.returncode != 0:
        raise BenchError("%s exited %d: %s" % (" ".join(argv[:3]), p.returncode, (err or out).strip()[-600:]))
    return out


def tail(path, n=800):
    with contextlib.suppress(OSError, TypeError):
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    return ""


def read_line(p, what, timeout, pattern=None, stream="stdout"):
    """The next line of p's stdout/stderr pipe (matching pattern); fails when p exits or the time is up."""
    fd = getattr(p, stream).fileno()
    attr = "_bench_buf_" + stream
    buf = getattr(p, attr, b"")
    deadline = time.monotonic() + timeout
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace")
            if pattern is None or re.search(pattern, text):
                setattr(p, attr, buf)
                return text
        ready, _, _ = select.select([fd], [], [], 0.1)
        chunk = os.read(fd, 65536) if ready else None
        if chunk:
            buf += chunk
            continue
        if chunk == b"" or p.poll() is not None:
            time.sleep(0.1)
            raise BenchError("%s exited (%s) before it was ready: %s %s" % (
                what, p.poll(), buf.decode(errors="replace")[-400:], tail(getattr(p, "log_path", None))))
        if time.monotonic() > deadline:
            raise BenchError("%s was not ready within %d s" % (what, timeout))


def wait_file(path, pattern, p, what, timeout):
    """Waits until the file a process writes contains pattern."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, tail(path, 1 << 20)):
            return
        if p.poll() is not None:
            raise BenchError("%s exited (%s): %s %s" % (what, p.returncode, tail(path), tail(p.log_path)))
        time.sleep(0.05)
    raise BenchError("%s was not ready within %d s" % (what, timeout))


def cpu_seconds(pid):
    """utime + stime of a process (all its threads)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def rss_kib(pid, key="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def bpf_prog_ids_of(pid):
    """Program ids a process holds (its prog and link fds), from /proc/PID/fdinfo: this bpftool has no pid column."""
    ids = set()
    try:
        for fd in os.listdir("/proc/%d/fdinfo" % pid):
            try:
                with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                    for line in f:
                        if line.startswith("prog_id:"):
                            ids.add(int(line.split()[1]))
            except OSError:
                continue
    except OSError:
        pass
    return ids


def bpf_prog_stats():
    out = run(["bpftool", "-j", "prog", "show"], timeout=60)
    return {p["id"]: p for p in json.loads(out or "[]")}


class BpfStats:
    """kernel.bpf_stats_enabled=1 for as long as it is held: BPF_ENABLE_STATS hands out an fd and the kernel counts
    while any such fd is open, so the stats end with this process however it ends, and a concurrent writer of the
    sysctl cannot switch them off under us (the sysctl reads 1 meanwhile)."""

    def __enter__(self):
        self.fd = -1
        self.sysctl_old = None
        if platform.machine() == "x86_64":
            attr = ctypes.create_string_buffer(128)  # union bpf_attr, enable_stats.type = BPF_STATS_RUN_TIME (0)
            fd = LIBC.syscall(321, 32, attr, ctypes.c_uint(len(attr)))  # SYS_bpf, BPF_ENABLE_STATS
            if fd >= 0:
                self.fd = fd
                return self
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            self.sysctl_old = f.read().strip()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        return self

    def __exit__(self, *exc):
        if self.fd >= 0:
            os.close(self.fd)
        elif self.sysctl_old is not None:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(self.sysctl_old)


# --- environment ----------------------------------------------------------------------------------------------------

class Env:
    """testenv namespaces (via netmon-demo-env: client <-> server veth, dnsmasq in server), the load servers,
    netmon-server attached to the client's veth, and an idle process for the PID-filter condition."""

    def __init__(self, b, work):
        self.b = b
        self.work = work

    def __enter__(self):
        b = self.b
        log("test environment (netmon-demo-env: namespaces, veth, dnsmasq)")
        self.env = PROCS.spawn([b.demo_env], stdin=subprocess.PIPE, deathsig=signal.SIGTERM)
        info = json.loads(read_line(self.env, "netmon-demo-env", 60))
        self.info = info
        self.client_ns = os.path.basename(info["client_netns"])
        self.server_ns = os.path.basename(info["server_netns"])
        self.client_if = info["client_if"]
        self.client_ip = info["client_ip"]
        self.server_ip = info["server_ip"]
        # Churn: client-side TIME_WAIT ports come back after 1 s, from a wide range (this namespace only).
        run(["sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1", "net.ipv4.ip_local_port_range=1024 65000"],
            ns=self.client_ns)
        self.iperf = PROCS.spawn(["iperf3", "-s", "-B", self.server_ip, "-p", "5201"], ns=self.server_ns,
                                 stdout=subprocess.DEVNULL)  # a report per test: nobody reads it
        self.churn = PROCS.spawn([b.load, "churn-serve", "--listen", self.server_ip + ":7000", "--seconds", "3600"],
                                 ns=self.server_ns)
        read_line(self.churn, "churn server", 10)
        self.sleeper = PROCS.spawn(["sleep", "3600"], ns=self.client_ns)
        log("netmon-server (plaintext on a unix socket, packet layer on %s in %s)" % (self.client_if, self.client_ns))
        self.sock = os.path.join(self.work, "server.sock")
        cfg = {"listen_addr": "unix:" + self.sock,
               "interfaces": [{"name": self.client_if, "netns": info["client_netns"]}],
               # Defaults otherwise. A finished capture's events are freed a second after it ends: retained for the
               # default 10 minutes, the earlier measurements' events would fill max_retained_bytes and later
               # captures would lose theirs to the memory bound (a product of the run, not of the load measured).
               "result_ttl_seconds": 1,
               "log_level": "warn"}
        self.config = cfg
        with open(os.path.join(self.work, "server.json"), "w") as f:
            json.dump(cfg, f)
        self.server_log = open(os.path.join(self.work, "netmon-server.log"), "w")
        self.server = PROCS.spawn([b.server, "--config", os.path.join(self.work, "server.json")],
                                  stderr=self.server_log, deathsig=signal.SIGTERM)
        read_line(self.server, "netmon-server", 60)
        self.server_rss_start = rss_kib(self.server.pid)
        self.wait_iperf()
        return self

    def wait_iperf(self):
        for _ in range(100):
            try:
                run(["iperf3", "-c", self.server_ip, "-p", "5201", "-n", "1K"], ns=self.client_ns, timeout=10)
                return
            except BenchError:
                time.sleep(0.1)
        raise BenchError("iperf3 server in %s does not answer" % self.server_ns)

    def __exit__(self, *exc):
        self.server_hwm = rss_kib(self.server.pid, "VmHWM") if self.server.poll() is None else None
        PROCS.stop(self.server, signal.SIGTERM, 20)  # detaches everything and ends captures properly
        self.server_log.close()
        for p in (self.sleeper, self.churn, self.iperf):
            PROCS.stop(p)
        with contextlib.suppress(OSError):
            self.env.stdin.close()  # end of input: netmon-demo-env deletes its namespaces
        PROCS.stop(self.env, signal.SIGTERM, 20)


# --- loads ----------------------------------------------------------------------------------------------------------

def iperf_json(env, args, seconds):
    # -t takes whole seconds (0 would mean "forever").
    out = run(["iperf3", "-c", env.server_ip, "-p", "5201", "-J", "-t", str(max(1, round(seconds)))] + args,
              ns=env.client_ns,
              timeout=seconds + 30, check=False)
    try:
        j = json.loads(out)
    except ValueError:
        raise BenchError("iperf3 gave no JSON: %s" % out[-400:])
    if j.get("error"):
        raise BenchError("iperf3: %s" % j["error"])
    return j


def run_load(env, b, load, seconds, rate=None):
    """One timed run of `load`; rate paces it (units of the load's metric); returns a dict with 'value'.
    One retry: an iperf3 server can refuse a test for a moment after the previous one ("server is busy")."""
    try:
        return run_load_once(env, b, load, seconds, rate)
    except BenchError as e:
        log("%s failed (%s); once more" % (load, e))
        time.sleep(1)
        return run_load_once(env, b, load, seconds, rate)


def run_load_once(env, b, load, seconds, rate=None):
    if load == "bulk_tcp":
        args = ["-b", "%dM" % max(1, rate * 1000)] if rate else []
        j = iperf_json(env, args, seconds)
        s = j["end"]["sum_received"]
        return {"value": s["bits_per_second"] / 1e9, "bytes": s["bytes"], "seconds": s["seconds"]}
    if load == "udp_small":
        bw = "%d" % (rate * 64 * 8) if rate else "0"  # -b 0: unpaced
        j = iperf_json(env, ["-u", "-l", "64", "-b", bw], seconds)
        s = j["end"].get("sum_received") or j["end"]["sum"]
        sent = j["end"].get("sum_sent") or j["end"]["sum"]
        packets, lost = s.get("packets", 0), s.get("lost_packets", 0)
        secs = s.get("seconds") or seconds
        return {"value": (packets - lost) / secs, "packets_sent": sent.get("packets", packets),
                "lost_packets": lost, "seconds": secs}
    if load == "tcp_churn":
        argv = [b.load, "churn", "--to", env.server_ip + ":7000", "--seconds", "%g" % seconds]
        if rate:
            argv += ["--rate", "%g" % rate]
        j = json.loads(run(argv, ns=env.client_ns, timeout=seconds + 30, check=False).strip().splitlines()[-1])
        j["value"] = j["per_second"]
        return j
    if load == "dns":
        argv = [b.load, "dns", "--server", env.server_ip, "--seconds", "%g" % seconds]
        if rate:
            argv += ["--rate", "%g" % rate]
        j = json.loads(run(argv, ns=env.client_ns, timeout=seconds + 30, check=False).strip().splitlines()[-1])
        j["value"] = j["per_second"]
        return j
    raise ValueError(load)


# --- monitors (the conditions) --------------------------------------------------------------------------------------

class Capture:
    """A netmon capture as an operator runs one: StartCapture, then followed live by a gRPC client."""
    seq = 0

    def __init__(self, env, b, pid=0, tag="cap"):
        self.env, self.b, self.pid, self.tag = env, b, pid, tag

    def __enter__(self):
        Capture.seq += 1
        self.session = "bench-%s-%d-%d" % (self.tag, os.getpid(), Capture.seq)
        argv = [self.b.client, "capture", "--server", "unix:" + self.env.sock, "--session", self.session,
                "--duration", "3600"]
        if self.pid:
            argv += ["--pid", str(self.pid)]
        self.proc = PROCS.spawn(argv, stdin=subprocess.PIPE)
        started = json.loads(read_line(self.proc, "netmon-bench-client", 30))
        if not started.get("started"):
            raise BenchError("StartCapture failed: %s" % started)
        self.started = started
        self.summary = None
        return self

    def pids(self):
        return {"monitor": self.env.server.pid, "consumer": self.proc.pid}

    def __exit__(self, *exc):
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
            out, _ = self.proc.communicate(timeout=60)
            self.summary = json.loads(out.strip().splitlines()[-1])
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as e:
            if exc[0] is None:
                raise BenchError("capture %s did not end properly: %s" % (self.session, e))
        finally:
            PROCS.stop(self.proc)


class Tcpdump:
    def __init__(self, env, work):
        self.env, self.work = env, work

    def __enter__(self):
        # Real files, bounded: a 2 x 50 MB ring in the run's directory (bulk TCP would otherwise write GBs).
        # -Z root: Debian's tcpdump would switch to user tcpdump, which cannot write in our 0700 directory.
        self.proc = PROCS.spawn(["tcpdump", "-i", self.env.client_if, "-w", os.path.join(self.work, "tcpdump.pcap"),
                                 "-C", "50", "-W", "2", "-Z", "root"], ns=self.env.client_ns,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        read_line(self.proc, "tcpdump", 20, pattern="listening on", stream="stderr")
        return self

    def pids(self):
        return {"monitor": self.proc.pid}

    def __exit__(self, *exc):
        PROCS.stop(self.proc, signal.SIGINT)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        m = re.search(r"(\d+) packets dropped by kernel", err or "")
        self.summary = {"dropped_by_kernel": int(m.group(1)) if m else None}
        for name in os.listdir(self.work):
            if name.startswith("tcpdump.pcap"):
                os.unlink(os.path.join(self.work, name))


class Bpftrace:
    def __init__(self, work):
        self.out = os.path.join(work, "bpftrace.out")

    def __enter__(self):
        # Its maps are printed at exit, one line per process on a busy host: to a file, not a pipe.
        with open(self.out, "w") as out:
            self.proc = PROCS.spawn(["bpftrace", os.path.join(HERE, "bytes_per_process.bt")], stdout=out)
        wait_file(self.out, "Attaching", self.proc, "bpftrace", 60)
        # "Attaching N probes..." comes before the attach; wait until its programs are in place.
        deadline = time.monotonic() + 20
        while len(bpf_prog_ids_of(self.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        return self

    def pids(self):
        return {"monitor": self.proc.pid}

    def __exit__(self, *exc):
        PROCS.stop(self.proc, signal.SIGINT, 30)
        text = tail(self.out, 1 << 22)
        self.summary = {"processes_seen": len(re.findall(r"^@sent_bytes\[", text, re.M))}


class EmptyTc:
    """An empty TC program (tests/bpf/fixtures/empty.bpf.c) on the client veth, both directions: the baseline of
    the live per-program cost. Not timed for throughput; only its run_time_ns/run_cnt matter."""

    def __init__(self, env, b):
        self.env, self.b = env, b
        self.nsenter = ["nsenter", "--net=" + env.info["client_netns"]]

    def __enter__(self):
        pin = "/sys/fs/bpf/netmon_bench_empty_%d" % os.getpid()
        run(["bpftool", "prog", "loadall", self.b.empty_obj, pin])
        try:
            self.prog_id = json.loads(run(["bpftool", "-j", "prog", "show", "pinned", pin + "/empty_tc"]))["id"]
            # nsenter, not `ip netns exec`: the latter remounts /sys, which hides the bpffs the pin is on.
            dev = self.env.client_if
            self.qdisc = subprocess.run(self.nsenter + ["tc", "qdisc", "add", "dev", dev, "clsact"],
                                        capture_output=True).returncode == 0
            for d in ("ingress", "egress"):
                run(self.nsenter + ["tc", "filter", "add", "dev", dev, d, "prio", "7", "handle", "7", "bpf", "da",
                                    "object-pinned", pin + "/empty_tc"])
        finally:
            shutil.rmtree(pin, ignore_errors=True)  # the filters hold the program; nothing stays pinned
        return self

    def pids(self):
        return {}

    def __exit__(self, *exc):
        dev = self.env.client_if
        for d in ("ingress", "egress"):
            subprocess.run(self.nsenter + ["tc", "filter", "del", "dev", dev, d, "prio", "7"], capture_output=True)
        if self.qdisc:
            subprocess.run(self.nsenter + ["tc", "qdisc", "del", "dev", dev, "clsact"], capture_output=True)
        self.summary = {}


def monitor(cond, env, b, work):
    if cond == "baseline":
        return contextlib.nullcontext(type("Nothing", (), {"pids": lambda self: {}, "summary": None})())
    if cond == "netmon":
        return Capture(env, b, tag="nofilter")
    if cond == "netmon_pid":
        return Capture(env, b, pid=env.sleeper.pid, tag="pid")
    if cond == "tcpdump":
        return Tcpdump(env, work)
    if cond == "bpftrace":
        return Bpftrace(work)
    if cond == "empty_tc":
        return EmptyTc(env, b)
    raise ValueError(cond)


# --- sections -------------------------------------------------------------------------------------------------------

def section_packet_cost(b, a):
    argv = [b.packet_cost] + (["--repeat", "2000", "--rounds", "3"] if a.smoke else ["--repeat", "100000",
                                                                                     "--rounds", "15"])
    out = run(argv, timeout=600)
    scenarios, cur = [], None
    for line in out.splitlines():
        m = re.match(r"^  (\S.*?)\s+([\d.]+)\s+([\d.]+)\s+(-?[\d.]+)$", line)
        if m and cur is not None:
            prog, empty = float(m.group(2)), float(m.group(3))
            cur["rows"].append({"program": m.group(1).strip(), "ns": prog, "empty_ns": empty,
                                "marginal_ns": prog - empty, "multiple_of_empty": prog / empty if empty else None})
        elif line and not line.startswith(" ") and not line.startswith("BPF_PROG_TEST_RUN") and \
                not line.startswith("("):
            cur = {"scenario": line.strip(), "rows": []}
            scenarios.append(cur)
    scenarios = [s for s in scenarios if s["rows"]]
    if not scenarios:
        raise BenchError("netmon_packet_cost printed no rows:\n" + out[-1000:])
    return {"command": " ".join(argv), "scenarios": scenarios}


def section_pipeline(b, a):
    res = {}
    n = 20000 if a.smoke else 2000000
    out = run([b.pipeline, str(n)], timeout=600)
    m = re.search(r"pipeline: (\d+) events .* = (\d+) events/s", out)
    mm = re.search(r"= (\d+) bytes/event \(accounted estimate (\d+)", out)
    cpu = re.search(r"producer (\d+) ns/event, whole pipeline incl. TLS and the client (\d+) ns/event", out)
    if not m or not mm:
        raise BenchError("netmon_bench_pipeline output not understood:\n" + out)
    res["join_to_grpc"] = {"events": int(m.group(1)), "events_per_second": float(m.group(2)),
                           "producer_ns_per_event": float(cpu.group(1)) if cpu else None,
                           "pipeline_cpu_ns_per_event": float(cpu.group(2)) if cpu else None,
                           "command": "netmon_bench_pipeline %d" % n}
    res["memory"] = {"rss_bytes_per_retained_event": float(mm.group(1)),
                     "accounted_bytes_per_event": float(mm.group(2))}
    ev, rounds = (20000, 1) if a.smoke else (500000, 3)
    out = run([b.agent_bench, "--events", str(ev), "--rounds", str(rounds)], timeout=600)
    m = re.search(r"median events/s: direct (\d+), through agent (\d+) .*parse (\d+)", out)
    if not m:
        raise BenchError("netmon-agent-bench output not understood:\n" + out)
    res["delivery"] = {"direct_events_per_second": float(m.group(1)), "agent_events_per_second": float(m.group(2)),
                       "agent_with_client_json_parse_events_per_second": float(m.group(3)),
                       "command": "netmon-agent-bench --events %d --rounds %d" % (ev, rounds)}
    return res


def section_correlate(b, a):
    if not b.correlate:
        return {"skipped": "netmon_bench_correlate is not built"}
    # Smoke: bench_smoke_correlate (its own CTest entry) covers it.
    if a.smoke:
        return {"skipped": "covered by the bench_smoke_correlate test"}
    out = run([b.correlate], timeout=600)
    last = [l for l in out.splitlines() if l.startswith("[")]
    return {"command": "netmon_bench_correlate", "results": json.loads(last[-1]) if last else None}


def section_coldstart(b, a, work):
    rounds = 2 if a.smoke else 5
    sock = os.path.join(work, "coldstart.sock")
    cfg_path = os.path.join(work, "coldstart.json")
    with open(cfg_path, "w") as f:
        json.dump({"listen_addr": "unix:" + sock, "interfaces": ["lo"], "log_level": "warn"}, f)
    ctl = [b.netmonctl, "--server", "unix:" + sock, "--insecure", "--quiet", "--timeout", "5"]
    rows, status = [], None
    for i in range(rounds):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(sock)
        t0 = time.monotonic()
        server = PROCS.spawn([b.server, "--config", cfg_path], stderr=subprocess.DEVNULL, deathsig=signal.SIGTERM)
        try:
            answered = None
            while time.monotonic() - t0 < 30:
                r = subprocess.run(ctl + ["capture", "--duration", "1", "--no-follow", "--session-id", "cold%d" % i],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if r.returncode == 0:
                    answered = time.monotonic() - t0
                    break
                time.sleep(0.005)
            if answered is None:
                raise BenchError("netmon-server answered no StartCapture within 30 s")
            rows.append({"seconds": answered, "cpu_seconds": cpu_seconds(server.pid)})
            if status is None:
                out = subprocess.run(ctl + ["status", "--format", "json"], capture_output=True, text=True)
                with contextlib.suppress(ValueError):
                    status = json.loads(out.stdout)
        finally:
            PROCS.stop(server, signal.SIGTERM, 20)
    programs = (status or {}).get("monitor", {}).get("programs", [])
    return {"rounds": rows,
            "median_seconds": statistics.median(r["seconds"] for r in rows),
            "median_cpu_seconds": statistics.median(r["cpu_seconds"] or 0 for r in rows),
            "programs": programs,
            "programs_loaded": len(programs),
            "max_program_load_ms": max((p["load_ms"] for p in programs), default=None)}


def section_latency(env, b, a):
    rounds = 2 if a.smoke else 8
    secs = 6 + rounds * 2
    # Paced sources, one connection and one DNS query per ms, so "first event possible" has a resolution of ~1 ms
    # for the socket layer (CONNECT) and the packet layer (DNS_QUERY) each. The DNS source keeps sending when a
    # packet is lost; the connection source reports connections that needed a retransmit (>= 500 ms).
    probe = PROCS.spawn([b.load, "churn", "--to", env.server_ip + ":7000", "--seconds", str(secs), "--rate", "1000"],
                        ns=env.client_ns)
    dns = PROCS.spawn([b.load, "dns", "--server", env.server_ip, "--seconds", str(secs), "--rate", "1000"],
                      ns=env.client_ns)
    try:
        time.sleep(0.3)
        out = run([b.client, "latency", "--server", "unix:" + env.sock, "--rounds", str(rounds)], timeout=secs + 60)
    finally:
        PROCS.stop(probe, signal.SIGINT)
        PROCS.stop(dns, signal.SIGINT)
    probe_out = json.loads(probe.stdout.read().strip().splitlines()[-1])
    rows = json.loads(out.strip().splitlines()[-1])["rounds"]
    good = [r for r in rows if "rpc_ms" in r and "first_event_ms" in r]
    if not good:
        raise BenchError("no capture start latency measured: %s" % rows)

    def med(key):
        v = [r[key] for r in good if key in r]
        return statistics.median(v) if v else None
    return {"rounds": rows,
            "median_rpc_ms": med("rpc_ms"),
            "median_first_event_ms": med("first_event_ms"),
            "median_first_connect_ms": med("first_connect_ms"),
            "median_first_dns_ms": med("first_dns_ms"),
            "all_cold": all(r.get("cold") for r in good),
            "all_attached_after_rpc": all(r.get("attached_after_rpc") for r in good),
            "probe_connections": probe_out.get("connections"),
            "probe_connections_over_500ms": probe_out.get("over_500ms"),
            "probe_max_connect_ms": probe_out.get("max_ms")}


def spread(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def section_overhead(env, b, a, work):
    reps, secs = a.reps, a.seconds
    trials = []
    for rep in range(reps):
        # Rotate the order each repetition, so no condition always follows the same one.
        order = CONDITIONS[rep % len(CONDITIONS):] + CONDITIONS[:rep % len(CONDITIONS)]
        for cond in order:
            log("overhead rep %d/%d: %s" % (rep + 1, reps, cond))
            with monitor(cond, env, b, work) as mon:
                pids = mon.pids()
                for load in LOADS:
                    cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
                    t0 = time.monotonic()
                    r = run_load(env, b, load, secs)
                    wall = time.monotonic() - t0
                    cpu = {k: (cpu_seconds(p) - cpu0[k]) / wall for k, p in pids.items()
                           if cpu0[k] is not None and cpu_seconds(p) is not None}
                    trials.append({"rep": rep, "condition": cond, "load": load, "value": r["value"],
                                   "cpu_cores": cpu, "detail": r})
            if mon is not None and getattr(mon, "summary", None):
                trials[-1]["monitor_summary"] = mon.summary
    summary = {}
    for load in LOADS:
        base = {t["rep"]: t["value"] for t in trials if t["load"] == load and t["condition"] == "baseline"}
        row = {"unit": LOAD_INFO[load][1], "baseline": spread(list(base.values()))}
        for cond in CONDITIONS[1:]:
            ratios = [t["value"] / base[t["rep"]] for t in trials
                      if t["load"] == load and t["condition"] == cond and base.get(t["rep"])]
            vals = [t["value"] for t in trials if t["load"] == load and t["condition"] == cond]
            cpus = [t["cpu_cores"].get("monitor") for t in trials if t["load"] == load and t["condition"] == cond
                    and t["cpu_cores"].get("monitor") is not None]
            cons = [t["cpu_cores"].get("consumer") for t in trials if t["load"] == load and t["condition"] == cond
                    and t["cpu_cores"].get("consumer") is not None]
            row[cond] = {"ratio": spread(ratios) if ratios else None, "value": spread(vals) if vals else None,
                         "monitor_cpu_cores": statistics.median(cpus) if cpus else None,
                         "consumer_cpu_cores": statistics.median(cons) if cons else None}
        summary[load] = row
    return {"reps": reps, "seconds_per_trial": secs, "conditions": COND_INFO, "loads": LOAD_INFO,
            "summary": summary, "trials": trials}


def section_bpf_stats(env, b, a, work):
    secs = 1 if a.smoke else min(a.seconds, 3)
    out = {}
    with BpfStats():
        for cond in ("netmon", "netmon_pid", "bpftrace", "empty_tc"):
            with monitor(cond, env, b, work) as mon:
                if cond.startswith("netmon"):
                    owner = env.server.pid
                elif cond == "bpftrace":
                    owner = mon.proc.pid
                else:
                    owner = None
                ids = {mon.prog_id} if owner is None else bpf_prog_ids_of(owner)
                per_load = {}
                for load in LOADS:
                    s0 = bpf_prog_stats()
                    t0 = time.monotonic()
                    r = run_load(env, b, load, secs)
                    wall = time.monotonic() - t0
                    s1 = bpf_prog_stats()
                    progs, total_ns = [], 0
                    for pid in sorted(ids):
                        if pid not in s1:
                            continue
                        dn = s1[pid].get("run_time_ns", 0) - s0.get(pid, {}).get("run_time_ns", 0)
                        dc = s1[pid].get("run_cnt", 0) - s0.get(pid, {}).get("run_cnt", 0)
                        if dc <= 0:
                            continue
                        total_ns += dn
                        progs.append({"program": s1[pid]["name"], "type": s1[pid]["type"], "runs": dc,
                                      "runs_per_second": dc / wall, "ns_per_run": dn / dc})
                    progs.sort(key=lambda p: -p["runs"] * p["ns_per_run"])
                    per_load[load] = {"value": r["value"], "programs": progs,
                                      "bpf_cpu_cores": total_ns / 1e9 / wall}
                out[cond] = per_load
    return out


def capture_loss(summary, expect=None):
    """Lost and unattributed events of one capture, from its final CaptureStats and what the load knows it did."""
    st = summary.get("stats", {})
    drops = {k: v for k, v in (st.get("drops") or {}).items() if v}
    lost = st.get("events_dropped", 0) + sum(v for k, v in drops.items() if k not in INFO_COUNTERS)
    unattributed = summary.get("unattributed_events", 0) + st.get("unattributed_packets", 0)
    shortfall = {}
    for what, (want, got) in (expect or {}).items():
        if got < want:
            shortfall[what] = want - got
    # The counters and the shortfall see the same loss from two sides (a DNS record the ring buffer refused is
    # a DNS_QUERY event that never came): the larger of the two, not their sum.
    return {"lost": max(lost, sum(shortfall.values())), "unattributed": unattributed, "drops": drops,
            "events_dropped": st.get("events_dropped", 0), "unattributed_events": summary.get("unattributed_events", 0),
            "unattributed_packets": st.get("unattributed_packets", 0), "shortfall": shortfall}


def wait_accepted(env, timeout=10.0):
    """Until the churn server has accepted every queued connection (its listener's Recv-Q is 0). It serves one
    connection at a time and trails the client at high rates: stopping the capture when the client ends would miss
    the ACCEPTs still to come and count them as lost."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = run(["ss", "-Hltn", "sport", "=", ":7000"], ns=env.server_ns, check=False)
        fields = out.split()
        if len(fields) < 2 or fields[1] == "0":
            return
        time.sleep(0.05)
    log("churn server still has connections queued after %.0f s" % timeout)


def section_loss(env, b, a, work, baselines):
    fractions = [0.5, 1.0] if a.smoke else [0.1, 0.25, 0.5, 0.75, 1.0]
    secs = 1 if a.smoke else a.seconds
    out = {}
    for load in LOADS:
        base = baselines.get(load)
        steps = []
        for f in fractions:
            rate = base * f if (base and f < 1.0) else None
            log("loss: %s at %s" % (load, "%.3g %s" % (rate, LOAD_INFO[load][1]) if rate else "full rate"))
            with Capture(env, b, tag="loss") as cap:
                r = run_load(env, b, load, secs, rate)
                if load == "tcp_churn":
                    wait_accepted(env)
            # The final chunk comes after the last flush: everything the load caused is in the summary.
            by = cap.summary.get("by_type", {})
            # What the load process itself did, against the events attributed to its PID (the capture is
            # host-wide: other processes' events are in it too).
            mine = cap.summary.get("by_pid", {}).get(str(r.get("pid")), {})
            expect = {}
            if load == "tcp_churn":
                expect["CONNECT"] = (r["connections"], mine.get("CONNECT", 0))
                server = cap.summary.get("by_pid", {}).get(str(env.churn.pid), {})
                expect["ACCEPT"] = (r["connections"], server.get("ACCEPT", 0))
            if load == "dns":
                expect["DNS_QUERY"] = (r["queries"], mine.get("DNS_QUERY", 0))
                expect["DNS_RESPONSE"] = (r["answers"], mine.get("DNS_RESPONSE", 0))
            loss = capture_loss(cap.summary, expect)
            cs = cap.summary.get("capture_seconds") or secs
            steps.append({"fraction": f, "target_rate": rate, "achieved": r["value"], "events": cap.summary["events"],
                          "events_per_second": cap.summary["events"] / cs, "by_type": by, **loss})
        clean = [s for s in steps if s["lost"] == 0 and s["unattributed"] == 0]
        rated = max(clean, key=lambda s: s["achieved"]) if clean else None
        above = [s for s in steps
                 if (s["lost"] or s["unattributed"]) and (not rated or s["achieved"] > rated["achieved"])]
        out[load] = {"unit": LOAD_INFO[load][1], "steps": steps,
                     "rated": rated["achieved"] if rated else None,
                     "rated_is_max_tested": bool(rated) and rated["fraction"] == fractions[-1],
                     "above_rated": [{"achieved": s["achieved"], "lost": s["lost"], "unattributed": s["unattributed"],
                                      "drops": s["drops"], "shortfall": s["shortfall"]} for s in above]}
    return out


# --- report ---------------------------------------------------------------------------------------------------------

def machine():
    model = ""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "loadavg_at_start": load, "hostname": platform.node()}


def fmt_rate(v, unit):
    if v is None:
        return "—"
    if unit == "Gbit/s":
        return "%.2f Gbit/s" % v
    if v >= 1e6:
        return "%.2fM %s" % (v / 1e6, unit)
    if v >= 1e4:
        return "%.0fk %s" % (v / 1e3, unit)
    return "%.0f %s" % (v, unit)


def fmt_ratio(r):
    if not r:
        return "—"
    return "%.3f (%.3f–%.3f)" % (r["median"], r["min"], r["max"])


def targets(res):
    t = []
    ov = res.get("overhead", {}).get("summary")
    if ov:
        worst = min(ov[l]["netmon"]["ratio"]["median"] for l in LOADS if ov[l]["netmon"]["ratio"])
        t.append(("capture running (no filter) within 2% of baseline on every load", worst >= 0.98,
                  "worst median ratio %.3f" % worst))
        ahead = []
        for l in LOADS:
            n = ov[l]["netmon"]["ratio"]
            for peer in ("tcpdump", "bpftrace"):
                p = ov[l][peer]["ratio"]
                if n and p:
                    ahead.append((l, peer, n["median"] > p["median"], n["median"], p["median"]))
        behind = ["%s vs %s %.3f<%.3f" % (l, peer, nm, pm) for l, peer, ok, nm, pm in ahead if not ok]
        t.append(("ahead of tcpdump and bpftrace on every load", not behind and bool(ahead),
                  "behind: " + ", ".join(behind) if behind else "ahead on all %d pairs" % len(ahead)))
    pc = res.get("packet_cost")
    if pc and "scenarios" in pc:
        sc = next((s for s in pc["scenarios"] if "attributed by tuple" in s["scenario"]), pc["scenarios"][0])
        tcp = [r for r in sc["rows"] if r["program"].startswith("tc ") and "TCP 100B" in r["program"]]
        mult = max(r["multiple_of_empty"] for r in tcp) if tcp else None
        t.append(("TC per-packet cost within a small multiple (≤10×) of an empty program (plain TCP)",
                  mult is not None and mult <= 10, "%.1f× (%.0f ns vs %.0f ns empty)" % (
                      mult, max(r["ns"] for r in tcp), max(r["empty_ns"] for r in tcp)) if mult else "n/a"))
    pl = res.get("pipeline")
    if pl and "join_to_grpc" in pl:
        d = pl["join_to_grpc"]["events_per_second"]
        t.append(("≥1M events/s to a gRPC client directly (join → client, live)", d >= 1e6, "%.0fk/s" % (d / 1e3)))
        g = pl["delivery"]["agent_events_per_second"]
        t.append(("≥500k events/s through the agent", g >= 5e5, "%.0fk/s" % (g / 1e3)))
    lo = res.get("loss")
    if lo:
        parts = ["%s %s" % (l, ("rated " + fmt_rate(lo[l]["rated"], lo[l]["unit"])) if lo[l]["rated"]
                            else "no clean step") for l in LOADS if l in lo]
        t.append(("zero loss at the rated load (every load has a clean step)",
                  all(lo[l]["rated"] for l in LOADS if l in lo), "; ".join(parts)))
    return t


def write_table(res, path):
    m = res["machine"]
    L = []
    L.append("Measured %s on %s (%d cores), kernel %s, load average at start %s; `bench/run.sh`%s." % (
        m["date"], m["cpu"], m["nproc"], m["kernel"], " ".join(m["loadavg_at_start"]),
        " --smoke (numbers meaningless)" if res["smoke"] else ""))
    L.append("")
    ov = res.get("overhead")
    if ov and "summary" in ov:
        L.append("**Throughput under each monitor**, median ratio to the baseline of the same repetition "
                 "(min–max over %d interleaved repetitions of %g s; 1.000 = no cost):" % (
                     ov["reps"], ov["seconds_per_trial"]))
        L.append("")
        L.append("| load | baseline | " + " | ".join(COND_INFO[c] for c in CONDITIONS[1:]) + " |")
        L.append("|---|---|" + "---|" * (len(CONDITIONS) - 1))
        for l in LOADS:
            row = ov["summary"][l]
            L.append("| %s | %s | %s |" % (LOAD_INFO[l][0], fmt_rate(row["baseline"]["median"], row["unit"]),
                                           " | ".join(fmt_ratio(row[c]["ratio"]) for c in CONDITIONS[1:])))
        L.append("")
        L.append("**CPU the monitor itself used** during each load (cores; netmon = netmon-server, + the following "
                 "gRPC client in brackets; BPF run time is charged to the traffic and shows in the ratios above):")
        L.append("")
        L.append("| load | " + " | ".join(COND_INFO[c] for c in CONDITIONS[1:]) + " |")
        L.append("|---|" + "---|" * (len(CONDITIONS) - 1))
        for l in LOADS:
            cells = []
            for c in CONDITIONS[1:]:
                x = ov["summary"][l][c]
                s = "%.3f" % x["monitor_cpu_cores"] if x["monitor_cpu_cores"] is not None else "—"
                if x.get("consumer_cpu_cores") is not None:
                    s += " (+%.3f)" % x["consumer_cpu_cores"]
                cells.append(s)
            L.append("| %s | %s |" % (LOAD_INFO[l][0], " | ".join(cells)))
        L.append("")
    bs = res.get("bpf_stats")
    if bs and "netmon" in bs:
        L.append("**Live eBPF cost** (`run_time_ns/run_cnt`, stats on; ns per run, and all programs' run time in "
                 "cores): netmon's busiest programs, bpftrace's, and an empty TC program on the same veth:")
        L.append("")
        L.append("| load | netmon, no filter | netmon, PID filter | bpftrace | empty TC |")
        L.append("|---|---|---|---|---|")
        for l in LOADS:
            cells = []
            for c in ("netmon", "netmon_pid", "bpftrace", "empty_tc"):
                x = bs.get(c, {}).get(l)
                if not x:
                    cells.append("—")
                    continue
                top = ", ".join("%s %.0f ns" % (p["program"], p["ns_per_run"]) for p in x["programs"][:3])
                cells.append("%s; %.3f cores" % (top or "no runs", x["bpf_cpu_cores"]))
            L.append("| %s | %s |" % (LOAD_INFO[l][0], " | ".join(cells)))
        L.append("")
    pc = res.get("packet_cost")
    if pc and "scenarios" in pc:
        sc = next((s for s in pc["scenarios"] if "attributed by tuple" in s["scenario"]), pc["scenarios"][0])
        L.append("**Per-packet cost** (BPF_PROG_TEST_RUN with repeat, capture running with a match-all filter, "
                 "ns per packet, empty program measured in the same rounds):")
        L.append("")
        L.append("| program / packet | netmon | empty | marginal | × empty |")
        L.append("|---|---|---|---|---|")
        for r in sc["rows"]:
            L.append("| %s | %.0f | %.0f | %.0f | %.1f |" % (r["program"], r["ns"], r["empty_ns"], r["marginal_ns"],
                                                          r["multiple_of_empty"] or 0))
        L.append("")
    cs = res.get("coldstart")
    if cs and "median_seconds" in cs:
        L.append("**Cold start** (exec to the first StartCapture answered, one interface, median of %d): %.2f s, "
                 "%.2f CPU s; %d BPF programs loaded, each verified once, the slowest in %.1f ms:" % (
                     len(cs["rounds"]), cs["median_seconds"], cs["median_cpu_seconds"], cs["programs_loaded"],
                     cs["max_program_load_ms"] or 0))
        L.append("")
        L.append("(load ms: the gap between consecutive kernel load stamps; an object's first program also carries "
                 "the object's preparation: maps, BTF, relocations)")
        L.append("")
        L.append("| object | program | verifier steps | load ms |")
        L.append("|---|---|---|---|")
        for p in cs["programs"]:
            L.append("| %s | %s | %d | %.1f |" % (p["object"], p["name"], p["verified_insns"], p["load_ms"]))
        L.append("")
    pl = res.get("pipeline")
    lat = res.get("latency")
    lo = res.get("loss")

    def ms(v):
        return "%.1f" % v if v is not None else "—"
    if pl or lat or lo:
        L.append("**Pipeline**:")
        L.append("")
        L.append("| measure | value |")
        L.append("|---|---|")
        if pl and "join_to_grpc" in pl:
            L.append("| events/s join → gRPC client (live follow, mTLS, loopback; synthetic flows) | %.0fk |" % (
                pl["join_to_grpc"]["events_per_second"] / 1e3))
            L.append("| events/s retained capture → client, direct / through netmon-agent / + client JSON parse | "
                     "%.0fk / %.0fk / %.0fk |" % (pl["delivery"]["direct_events_per_second"] / 1e3,
                                                 pl["delivery"]["agent_events_per_second"] / 1e3,
                                                 pl["delivery"]["agent_with_client_json_parse_events_per_second"]
                                                 / 1e3))
            L.append("| resident memory per retained event | %.0f bytes |" %
                     pl["memory"]["rss_bytes_per_retained_event"])
        if lo:
            best = max(((l, s) for l in LOADS if l in lo for s in lo[l]["steps"]),
                       key=lambda x: x[1]["events_per_second"])
            L.append("| events/s kernel → gRPC client, real traffic (highest seen: %s at %s) | %.0fk |" % (
                LOAD_INFO[best[0]][0], fmt_rate(best[1]["achieved"], LOAD_INFO[best[0]][1]),
                best[1]["events_per_second"] / 1e3))
        if lat and "median_rpc_ms" in lat:
            L.append("| capture start: StartCapture → programs attached (RPC returns), median | %.1f ms |" %
                     lat["median_rpc_ms"])
            L.append("| capture start: StartCapture → first event's kernel timestamp, median (socket layer: CONNECT "
                     "%s ms, packet layer: DNS_QUERY %s ms) | %.1f ms |" % (
                         ms(lat["median_first_connect_ms"]), ms(lat["median_first_dns_ms"]),
                         lat["median_first_event_ms"]))
            L.append("| connections (1000/s probe) stalled ≥ 500 ms while captures started and stopped %d times "
                     "| %s of %s (longest %.0f ms) |" % (len(lat["rounds"]), lat["probe_connections_over_500ms"],
                                                       lat["probe_connections"], lat["probe_max_connect_ms"] or 0))
        L.append("")
    if lo:
        L.append("**Loss at load** (capture with no filter; each load paced at fractions of its baseline rate; lost "
                 "= loss counters + events the load caused that never came; unattributed = PID-0 events + packets):")
        L.append("")
        L.append("| load | rated: highest zero-loss rate | highest tested | above the rated rate |")
        L.append("|---|---|---|---|")
        for l in LOADS:
            if l not in lo:
                continue
            x = lo[l]
            top = max(s["achieved"] for s in x["steps"])
            shown = x["above_rated"][:1] + x["above_rated"][-1:] if len(x["above_rated"]) > 1 else x["above_rated"]
            above = "; ".join("%s: lost %d, unattributed %d%s" % (
                fmt_rate(s["achieved"], x["unit"]), s["lost"], s["unattributed"],
                (" (" + ", ".join("%s %d" % kv for kv in list(s["drops"].items()) + list(s["shortfall"].items())) + ")")
                if s["drops"] or s["shortfall"] else "") for s in sorted(shown, key=lambda s: s["achieved"])) or "none"
            L.append("| %s | %s%s | %s | %s |" % (LOAD_INFO[l][0], fmt_rate(x["rated"], x["unit"]),
                                                  " (max tested)" if x["rated_is_max_tested"] else "",
                                                  fmt_rate(top, x["unit"]), above))
        L.append("")
    t = res.get("targets")
    if t:
        L.append("**Targets**:")
        L.append("")
        for name, ok, detail in t:
            L.append("- %s %s — %s" % ("met:" if ok else "**missed**:", name, detail))
        L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def write_plot(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(14, 9))
    m = res["machine"]
    fig.suptitle("netmon benchmarks — %s, %s ×%d, kernel %s%s" % (m["date"], m["cpu"], m["nproc"], m["kernel"],
                                                                   " (SMOKE: meaningless)" if res["smoke"] else ""))
    ax = axes[0][0]
    ov = res.get("overhead", {}).get("summary")
    short = {"bulk_tcp": "bulk TCP", "udp_small": "UDP 64 B", "tcp_churn": "TCP churn", "dns": "DNS"}
    if ov:
        conds = CONDITIONS[1:]
        w = 0.8 / len(conds)
        trials = res["overhead"]["trials"]
        top = 1.1
        for i, c in enumerate(conds):
            meds, lo_, hi_ = [], [], []
            for l in LOADS:
                base = {t["rep"]: t["value"] for t in trials if t["load"] == l and t["condition"] == "baseline"}
                r = sorted(t["value"] / base[t["rep"]] for t in trials
                           if t["load"] == l and t["condition"] == c and base.get(t["rep"]))
                med = statistics.median(r) if r else 0
                # The middle half of the repetitions: min-max (in the table) is dominated by the noisiest second.
                q1, q3 = (statistics.quantiles(r, n=4, method="inclusive")[::2]) if len(r) > 1 else (med, med)
                meds.append(med)
                lo_.append(med - q1)
                hi_.append(q3 - med)
                top = max(top, q3 + 0.05)
            xs = [j + (i - (len(conds) - 1) / 2) * w for j in range(len(LOADS))]
            ax.bar(xs, meds, w, yerr=[lo_, hi_], capsize=3, label=COND_INFO[c])
        ax.axhline(1.0, color="black", lw=0.8)
        ax.axhline(0.98, color="red", lw=0.8, ls="--", label="target: 0.98")
        ax.set_xticks(range(len(LOADS)))
        ax.set_xticklabels([short[l] for l in LOADS])
        ax.set_ylabel("throughput / baseline (median, quartiles)")
        ax.set_ylim(0, min(top, 2.0))
        ax.set_title("Overhead on real traffic (higher is better)")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3)
    ax = axes[0][1]
    pc = res.get("packet_cost")
    if pc and "scenarios" in pc:
        sc = next((s for s in pc["scenarios"] if "attributed by tuple" in s["scenario"]), pc["scenarios"][0])
        names = [r["program"] for r in sc["rows"]]
        ax.barh(range(len(names)), [r["empty_ns"] for r in sc["rows"]], label="empty program")
        ax.barh(range(len(names)), [r["marginal_ns"] for r in sc["rows"]], left=[r["empty_ns"] for r in sc["rows"]],
                label="netmon, marginal")
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ns per packet (BPF_PROG_TEST_RUN)")
        ax.set_title("Per-packet cost")
        ax.legend(fontsize=8)
    ax = axes[1][0]
    if ov:
        conds = CONDITIONS[1:]
        w = 0.8 / len(conds)
        for i, c in enumerate(conds):
            vals = [(ov[l][c]["monitor_cpu_cores"] or 0) + (ov[l][c].get("consumer_cpu_cores") or 0) for l in LOADS]
            xs = [j + (i - (len(conds) - 1) / 2) * w for j in range(len(LOADS))]
            ax.bar(xs, vals, w, label=COND_INFO[c])
        ax.set_xticks(range(len(LOADS)))
        ax.set_xticklabels([short[l] for l in LOADS])
        ax.set_ylabel("CPU cores used by the monitor's processes")
        ax.set_title("Monitor CPU (userspace; lower is better)")
        ax.legend(fontsize=7)
    ax = axes[1][1]
    pl = res.get("pipeline")
    bars = []
    if pl and "join_to_grpc" in pl:
        bars += [("join → gRPC client", pl["join_to_grpc"]["events_per_second"], 1e6),
                 ("retained → client, direct", pl["delivery"]["direct_events_per_second"], 1e6),
                 ("retained → via agent", pl["delivery"]["agent_events_per_second"], 5e5)]
    lo = res.get("loss")
    if lo:
        best = max((s for l in LOADS if l in lo for s in lo[l]["steps"]), key=lambda s: s["events_per_second"])
        bars.append(("kernel → client, real traffic", best["events_per_second"], None))
    if bars:
        ax.barh(range(len(bars)), [b[1] / 1e3 for b in bars], color="tab:green")
        for i, b in enumerate(bars):
            if b[2]:
                ax.plot([b[2] / 1e3] * 2, [i - 0.4, i + 0.4], color="red", lw=2)
        ax.set_yticks(range(len(bars)))
        ax.set_yticklabels([b[0] for b in bars], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("thousand events/s (red: target)")
        ax.set_title("Event pipeline")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --- main -----------------------------------------------------------------------------------------------------------

class Bins:
    def __init__(self, build):
        def p(*parts):
            return os.path.join(build, *parts)
        self.server = p("userspace", "server", "netmon-server")
        self.netmonctl = p("userspace", "cli", "netmonctl")
        self.demo_env = p("tests", "e2e_agent", "netmon-demo-env")
        self.agent_bench = p("tests", "e2e_agent", "netmon-agent-bench")
        self.pipeline = p("tests", "e2e", "netmon_bench_pipeline")
        self.packet_cost = p("tests", "bpf", "tc", "netmon_packet_cost")
        self.empty_obj = p("bpf", "test_empty.bpf.o")
        self.load = p("bench", "netmon-bench-load")
        self.client = p("bench", "netmon-bench-client")
        # userspace/correlate adds bench/correlate before bench/ does (see bench/CMakeLists.txt).
        candidates = (p("userspace", "correlate", "bench", "netmon_bench_correlate"),
                      p("bench", "correlate", "netmon_bench_correlate"))
        self.correlate = next((c for c in candidates if os.path.exists(c)), None)

    def missing(self):
        return [v for k, v in vars(self).items() if k != "correlate" and not os.path.exists(v)]


SECTIONS = ["packet_cost", "pipeline", "correlate", "coldstart", "latency", "overhead", "bpf_stats", "loss"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="every benchmark for a moment: checks they run")
    ap.add_argument("--build-dir", default=os.environ.get("NETMON_BUILD_DIR", os.path.join(TOP, "build")))
    ap.add_argument("--out", help="result directory (default bench/results/<date>)")
    ap.add_argument("--reps", type=int, help="interleaved repetitions of the overhead conditions (default 7)")
    ap.add_argument("--seconds", type=float, help="seconds per load run (default 3)")
    ap.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--replot", metavar="DIR", help="rewrite DIR's table.md and plot.png from its results.json")
    a = ap.parse_args()
    if a.replot:
        with open(os.path.join(a.replot, "results.json")) as f:
            res = json.load(f)
        res["targets"] = targets(res)
        write_table(res, os.path.join(a.replot, "table.md"))
        write_plot(res, os.path.join(a.replot, "plot.png"))
        return 0
    a.reps = a.reps or (1 if a.smoke else 7)
    a.seconds = a.seconds or (0.5 if a.smoke else 3)
    only = set(a.only.split(",")) if a.only else set(SECTIONS)
    if only - set(SECTIONS):
        ap.error("unknown sections: %s" % ",".join(only - set(SECTIONS)))
    if os.geteuid() != 0:
        sys.exit("netmon_bench.py: run as root (BPF programs and network namespaces need it)")
    b = Bins(os.path.abspath(a.build_dir))
    if b.missing():
        sys.exit("netmon_bench.py: not built: %s (bench/run.sh builds them)" % ", ".join(b.missing()))
    tools = [t for t in ("ip", "tc", "iperf3", "tcpdump", "bpftrace", "bpftool", "sysctl") if not shutil.which(t)]
    if tools:
        sys.exit("netmon_bench.py: missing tools: %s (bash scripts/install-deps.sh)" % ", ".join(tools))

    out_dir = a.out or os.path.join(HERE, "results", datetime.date.today().isoformat())
    os.makedirs(out_dir, exist_ok=True)
    # Ctrl-C raises KeyboardInterrupt even when SIGINT came in ignored (a shell's background job), and SIGTERM/SIGHUP
    # end the run the same way: through the finally blocks that stop what we started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda *_: sys.exit(130))
    t_start = time.monotonic()
    res = {"smoke": a.smoke, "machine": machine(), "args": {"reps": a.reps, "seconds": a.seconds},
           "sections_seconds": {}}
    failed = []
    work = tempfile.mkdtemp(prefix="netmon-bench.")
    PROCS.logdir = work

    def section(name, fn, *args):
        if name not in only:
            return
        log("== %s" % name)
        t0 = time.monotonic()
        try:
            res[name] = fn(*args)
        except BenchError as e:
            log("%s FAILED: %s" % (name, e))
            res[name] = {"error": str(e)}
            failed.append(name)
        res["sections_seconds"][name] = round(time.monotonic() - t0, 1)

    try:
        section("packet_cost", section_packet_cost, b, a)
        section("pipeline", section_pipeline, b, a)
        section("correlate", section_correlate, b, a)
        section("coldstart", section_coldstart, b, a, work)
        if only & {"latency", "overhead", "bpf_stats", "loss"}:
            with Env(b, work) as env:
                res["environment"] = {"client_if": env.client_if, "client_ip": env.client_ip,
                                      "server_ip": env.server_ip, "netmon_server_config": env.config}
                section("latency", section_latency, env, b, a)
                section("overhead", section_overhead, env, b, a, work)
                section("bpf_stats", section_bpf_stats, env, b, a, work)
                baselines = {}
                if "summary" in res.get("overhead", {}):
                    baselines = {l: res["overhead"]["summary"][l]["baseline"]["median"] for l in LOADS}
                else:
                    for l in LOADS:  # loss alone: a quick baseline of its own
                        baselines[l] = run_load(env, b, l, a.seconds)["value"]
                section("loss", section_loss, env, b, a, work, baselines)
            res["netmon_server_rss_kib"] = {"start": env.server_rss_start, "peak": env.server_hwm}
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        failed.append("interrupted")
    finally:
        PROCS.stop_all()
        if failed:
            log("logs of the processes kept in %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    res["targets"] = targets(res)
    res["total_seconds"] = round(time.monotonic() - t_start, 1)
    res["failed_sections"] = failed
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    write_table(res, os.path.join(out_dir, "table.md"))
    try:
        write_plot(res, os.path.join(out_dir, "plot.png"))
    except ImportError as e:
        log("no plot (%s): apt-get install python3-matplotlib" % e)
        failed.append("plot")
    with open(os.path.join(out_dir, "table.md")) as f:
        print(f.read())
    log("results in %s (%.0f s)" % (out_dir, res["total_seconds"]))
    if failed:
        log("FAILED sections: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

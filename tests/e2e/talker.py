#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# One real process with a known PID that talks on several flows when told to, for captures by PID.
# Reads commands on stdin, one per line, and answers each with one JSON line on stdout:
#   tcp HOST PORT SEND RECV   connect, send SEND bytes, read RECV bytes, close
#   udp HOST PORT BYTES BIND  bind to BIND:0, send one unconnected datagram of BYTES bytes, wait for one reply
#   dns SERVER NAME           one A query over UDP to SERVER:53, wait for the answer
#   quit
# Prints {"ready": true, "pid": N} first, before opening any socket.
import json
import socket
import sys


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def endpoint(sock):
    addr = sock.getsockname()
    return f"[{addr[0]}]:{addr[1]}" if ":" in addr[0] else f"{addr[0]}:{addr[1]}"


def recv_exact(s, n):
    got = 0
    while got < n:
        chunk = s.recv(min(65536, n - got))
        if not chunk:
            break
        got += len(chunk)
    return got


def main():
    print(json.dumps({"ready": True, "pid": __import__("os").getpid()}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        try:
            if parts[0] == "quit":
                break
            if parts[0] == "tcp":
                host, port, send, recv = parts[1], int(parts[2]), int(parts[3]), int(parts[4])
                with socket.socket(family(host), socket.SOCK_STREAM) as s:
                    s.settimeout(10)
                    s.connect((host, port))
                    local = endpoint(s)
                    s.sendall(b"x" * send)
                    got = recv_exact(s, recv)
                print(json.dumps({"op": "tcp", "local": local, "sent": send, "received": got}), flush=True)
            elif parts[0] == "udp":
                host, port, size, bind = parts[1], int(parts[2]), int(parts[3]), parts[4]
                with socket.socket(family(host), socket.SOCK_DGRAM) as s:
                    s.settimeout(10)
                    s.bind((bind, 0))
                    s.sendto(b"u" * size, (host, port))
                    local = endpoint(s)
                    data, _ = s.recvfrom(65536)
                print(json.dumps({"op": "udp", "local": local, "sent": size, "received": len(data)}), flush=True)
            elif parts[0] == "dns":
                server, name = parts[1], parts[2]
                query = bytearray(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")
                for label in name.split("."):
                    query += bytes([len(label)]) + label.encode()
                query += b"\x00\x00\x01\x00\x01"
                with socket.socket(family(server), socket.SOCK_DGRAM) as s:
                    s.settimeout(10)
                    s.sendto(bytes(query), (server, 53))
                    data, _ = s.recvfrom(65536)
                print(json.dumps({"op": "dns", "received": len(data)}), flush=True)
            else:
                print(json.dumps({"error": f"unknown command {parts[0]}"}), flush=True)
        except OSError as e:
            print(json.dumps({"error": str(e)}), flush=True)


if __name__ == "__main__":
    main()

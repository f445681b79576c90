#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Sends crafted frames out of an interface of the current network namespace (start it inside a test namespace:
`ip netns exec NS /usr/bin/python3 send_crafted.py …`, or testenv's Process::Spawn with that Netns).

  send_crafted.py --iface IF --hex HEX [--l3] [--count N]
      HEX is a whole Ethernet frame (or, with --l3, an IP packet sent through the namespace's routing).
  send_crafted.py --iface IF --fixture NAME [--set key=value ...] [--count N]
      NAME from fixtures.py; src_mac defaults to the interface's MAC, dst_mac to the neighbour entry of the
      destination address (falling back to broadcast), so a fixture reaches the peer of a testenv Topology.

Prints one line "sent N frames of B bytes" on success; exits 2 with a message on bad input."""

import argparse
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean when tests run this
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fixtures  # noqa: E402
from scapy.all import IP, Ether, IPv6, conf, get_if_hwaddr, send, sendp  # noqa: E402


def neighbour_mac(iface, address):
    """The MAC of `address` in this namespace's neighbour table (testenv makes permanent entries), or None."""
    out = subprocess.run(["ip", "-j", "neigh", "show", "dev", iface, "to", address],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        return None
    for entry in json.loads(out.stdout):
        if entry.get("lladdr"):
            return entry["lladdr"]
    return None


def fixture_frame(args):
    overrides = fixtures.parse_overrides(args.set)
    overrides.setdefault("src_mac", get_if_hwaddr(args.iface))
    if "dst_mac" not in overrides:
        probe = fixtures.build(args.fixture, overrides)
        dst = probe[IP].dst if IP in probe else probe[IPv6].dst if IPv6 in probe else None
        overrides["dst_mac"] = (neighbour_mac(args.iface, dst) if dst else None) or "ff:ff:ff:ff:ff:ff"
    return fixtures.build(args.fixture, overrides)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iface", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--hex", help="raw bytes as hex")
    source.add_argument("--fixture", help="a name from fixtures.py")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="fixture parameter")
    parser.add_argument("--l3", action="store_true", help="--hex is an IP packet, not an Ethernet frame")
    parser.add_argument("--count", type=int, default=1)
    args = parser.parse_args()
    conf.verb = 0

    try:
        if args.hex is not None:
            raw = bytes.fromhex(args.hex)
            if args.l3:
                packet = IPv6(raw) if raw[:1] and raw[0] >> 4 == 6 else IP(raw)
                send(packet, iface=args.iface, count=args.count)
                print(f"sent {args.count} packets of {len(raw)} bytes", flush=True)
                return 0
            frame = Ether(raw)
        else:
            frame = fixture_frame(args)
    except (KeyError, ValueError) as e:
        print(f"send_crafted.py: {e.args[0]}", file=sys.stderr)
        return 2
    sendp(frame, iface=args.iface, count=args.count)
    print(f"sent {args.count} frames of {len(bytes(frame))} bytes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Named test packets (full Ethernet frames), printed as hex: a catalogue for BPF test-run fixtures and for
send_crafted.py. Each entry keeps the scapy expression next to its name so a fixture can be replayed or changed.

  fixtures.py                      list the catalogue
  fixtures.py NAME [key=value...]  print NAME as one hex line (keys override the defaults below)

Run with /usr/bin/python3 (Debian's python3-scapy)."""

import sys

from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, IPv6, Raw  # noqa: F401

# Defaults: documentation-style test addresses; callers override them to match a Topology.
DEFAULTS = {
    "src_mac": "02:6e:6d:00:00:01",
    "dst_mac": "02:6e:6d:00:00:02",
    "src4": "10.200.1.1",
    "dst4": "10.200.1.2",
    "src6": "fd00:6e6d:200:1::1",
    "dst6": "fd00:6e6d:200:1::2",
    "sport": "40000",
    "dport": "5000",
    "len": "100",  # UDP payload bytes
    "qname": "a.nm.test",
    "qtype": "A",
    "answer": "10.53.0.1",
    "id": "4660",  # DNS id 0x1234
}


def _eth(p):
    return Ether(src=p["src_mac"], dst=p["dst_mac"])


def _dns_query(p):
    return DNS(id=int(p["id"]), rd=1, qd=DNSQR(qname=p["qname"], qtype=p["qtype"]))


def _dns_response(p):
    return DNS(id=int(p["id"]), qr=1, aa=1, rd=1, ra=1, qd=DNSQR(qname=p["qname"], qtype=p["qtype"]),
               an=DNSRR(rrname=p["qname"], type=p["qtype"], ttl=300, rdata=p["answer"]))


# name -> (description, builder). Builders take the merged parameter dict.
CATALOGUE = {
    "tcp_syn_v4": ("TCP SYN over IPv4",
                   lambda p: _eth(p) / IP(src=p["src4"], dst=p["dst4"]) /
                   TCP(sport=int(p["sport"]), dport=int(p["dport"]), flags="S", seq=1000)),
    "tcp_syn_v6": ("TCP SYN over IPv6",
                   lambda p: _eth(p) / IPv6(src=p["src6"], dst=p["dst6"]) /
                   TCP(sport=int(p["sport"]), dport=int(p["dport"]), flags="S", seq=1000)),
    "udp_v4": ("UDP datagram over IPv4 with len payload bytes",
               lambda p: _eth(p) / IP(src=p["src4"], dst=p["dst4"]) /
               UDP(sport=int(p["sport"]), dport=int(p["dport"])) / Raw(b"x" * int(p["len"]))),
    "udp_v6": ("UDP datagram over IPv6 with len payload bytes",
               lambda p: _eth(p) / IPv6(src=p["src6"], dst=p["dst6"]) /
               UDP(sport=int(p["sport"]), dport=int(p["dport"])) / Raw(b"x" * int(p["len"]))),
    "dns_query_v4": ("DNS query (qname, qtype) to port 53 over IPv4",
                     lambda p: _eth(p) / IP(src=p["src4"], dst=p["dst4"]) /
                     UDP(sport=int(p["sport"]), dport=53) / _dns_query(p)),
    "dns_response_v4": ("DNS response from port 53 over IPv4, one answer",
                        lambda p: _eth(p) / IP(src=p["dst4"], dst=p["src4"]) /
                        UDP(sport=53, dport=int(p["sport"])) / _dns_response(p)),
    "dns_query_v6": ("DNS query (qname, qtype) to port 53 over IPv6",
                     lambda p: _eth(p) / IPv6(src=p["src6"], dst=p["dst6"]) /
                     UDP(sport=int(p["sport"]), dport=53) / _dns_query(p)),
    "dns_response_v6": ("DNS response from port 53 over IPv6, one answer",
                        lambda p: _eth(p) / IPv6(src=p["dst6"], dst=p["src6"]) /
                        UDP(sport=53, dport=int(p["sport"])) / _dns_response(p)),
}


def build(name, overrides=None):
    """The fixture as a scapy packet; overrides is a dict of DEFAULTS keys."""
    if name not in CATALOGUE:
        raise KeyError(f"unknown fixture {name!r}; known: {', '.join(sorted(CATALOGUE))}")
    params = dict(DEFAULTS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise KeyError(f"unknown fixture parameter {key!r}; known: {', '.join(sorted(DEFAULTS))}")
        params[key] = value
    return CATALOGUE[name][1](params)


def parse_overrides(items):
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {item!r}")
        overrides[key] = value
    return overrides


def main(argv):
    if len(argv) < 2:
        for name, (description, _) in sorted(CATALOGUE.items()):
            print(f"{name:18} {description}")
        return 0
    try:
        packet = build(argv[1], parse_overrides(argv[2:]))
    except (KeyError, ValueError) as e:
        print(f"fixtures.py: {e.args[0]}", file=sys.stderr)
        return 2
    print(bytes(packet).hex())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""NetFlow v5 / v9 / IPFIX packets for netmon-correlate's tests, built with scapy (python3-scapy).

  netflow_gen.py hex NAME            print the packet as hex (how tests/unit/correlate's fixtures were made)
  netflow_gen.py send PORT NAME...   send the packets, in order, to 127.0.0.1:PORT over UDP

Every packet describes one flow, 10.0.0.5:51234 -> 10.1.1.1:443/tcp (and its reverse where noted), at
export time 1700000000 (2023-11-14T22:13:20Z), with known byte counts, so tests can match it with an event.
"""
import socket
import struct
import sys

from scapy.layers.netflow import (NetflowDataflowsetV9, NetflowFlowsetV9, NetflowHeader, NetflowHeaderV5,
                                  NetflowHeaderV9, NetflowHeaderV10, NetflowRecordV5, NetflowRecordV9,
                                  NetflowTemplateFieldV9, NetflowTemplateV9)

EXPORT = 1700000000
UPTIME_MS = 100000  # exporter uptime at export: switched times are relative to it
SRC, DST, SPORT, DPORT = "10.0.0.5", "10.1.1.1", 51234, 443


def ip4(a):
    return socket.inet_aton(a)


def v5():
    # Forward 5000 bytes / 10 packets, reverse 20000 / 20, both from -5 s to -1 s before the export; in if 3, out 5.
    return bytes(NetflowHeader(version=5) / NetflowHeaderV5(sysUptime=UPTIME_MS, unixSecs=EXPORT, unixNanoSeconds=0,
                                                            flowSequence=1) /
                 NetflowRecordV5(src=SRC, dst=DST, srcport=SPORT, dstport=DPORT, prot=6, dpkts=10, dOctets=5000,
                                 first=UPTIME_MS - 5000, last=UPTIME_MS - 1000, input=3, output=5) /
                 NetflowRecordV5(src=DST, dst=SRC, srcport=DPORT, dstport=SPORT, prot=6, dpkts=20, dOctets=20000,
                                 first=UPTIME_MS - 5000, last=UPTIME_MS - 1000, input=5, output=3))


V9_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (22, 4), (21, 4), (10, 2), (14, 2)]


def v9_template():
    fields = [NetflowTemplateFieldV9(fieldType=t, fieldLength=l) for t, l in V9_FIELDS]
    return bytes(NetflowHeader(version=9) / NetflowHeaderV9(sysUptime=UPTIME_MS, unixSecs=EXPORT, SourceID=42) /
                 NetflowFlowsetV9(flowSetID=0, templates=[NetflowTemplateV9(templateID=256, template_fields=fields)]))


def v9_data():
    rec = (ip4(SRC) + ip4(DST) + struct.pack("!HHB", SPORT, DPORT, 6) +
           struct.pack("!IIIIHH", 7000, 7, UPTIME_MS - 4000, UPTIME_MS - 2000, 4, 6))
    return bytes(NetflowHeader(version=9) / NetflowHeaderV9(sysUptime=UPTIME_MS, unixSecs=EXPORT, SourceID=42) /
                 NetflowDataflowsetV9(templateID=256, records=[NetflowRecordV9(fieldValue=rec)]))


# IPFIX: template 300 (IPv4, with inline samplingInterval 10) and 301 (IPv6), observation domain 7.
IPFIX_V4 = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8), (10, 4), (14, 4), (34, 4)]
IPFIX_V6 = [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)]


def ipfix():
    t4 = NetflowTemplateV9(templateID=300, template_fields=[NetflowTemplateFieldV9(fieldType=t, fieldLength=l)
                                                            for t, l in IPFIX_V4])
    t6 = NetflowTemplateV9(templateID=301, template_fields=[NetflowTemplateFieldV9(fieldType=t, fieldLength=l)
                                                            for t, l in IPFIX_V6])
    start_ms, end_ms = (EXPORT - 3) * 1000, (EXPORT - 1) * 1000
    r4 = (ip4(SRC) + ip4(DST) + struct.pack("!HHB", SPORT, DPORT, 6) +
          struct.pack("!QQQQIII", 900, 9, start_ms, end_ms, 11, 12, 10))
    r6 = (socket.inet_pton(socket.AF_INET6, "2001:db8::5") + socket.inet_pton(socket.AF_INET6, "2001:db8::1") +
          struct.pack("!HHB", 40000, 53, 17) + struct.pack("!QQQQ", 120, 1, start_ms, end_ms))
    pkt = bytearray(bytes(NetflowHeader(version=10) / NetflowHeaderV10(ExportTime=EXPORT, ObservationDomainID=7) /
                          NetflowFlowsetV9(flowSetID=2, templates=[t4, t6]) /
                          NetflowDataflowsetV9(templateID=300, records=[NetflowRecordV9(fieldValue=r4)]) /
                          NetflowDataflowsetV9(templateID=301, records=[NetflowRecordV9(fieldValue=r6)])))
    # scapy 2.5 writes the message length before the last set is padded (250 for these 252 bytes); a collector
    # must refuse a set that runs past the message, so the length is set to what was built.
    pkt[2:4] = struct.pack("!H", len(pkt))
    return bytes(pkt)


PACKETS = {"v5": v5, "v9_template": v9_template, "v9_data": v9_data, "ipfix": ipfix}


def main(argv):
    if len(argv) == 3 and argv[1] == "hex":
        print(PACKETS[argv[2]]().hex())
        return 0
    if len(argv) >= 4 and argv[1] == "send":
        port = int(argv[2])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for name in argv[3:]:
                s.sendto(PACKETS[name](), ("127.0.0.1", port))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

// SPDX-License-Identifier: Apache-2.0
// NetFlow v5 / v9 / IPFIX parsing. The well-formed fixtures were generated with scapy by
// tests/correlate/netflow_gen.py (the line that makes each is next to it); the malformed ones are built here, each
// from a valid packet with one thing made to lie.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "correlate/netflow_parser.h"

namespace netmon::correlate {
namespace {

constexpr int64_t kExportNs = 1700000000LL * 1'000'000'000;
constexpr int64_t kSec = 1'000'000'000;

std::vector<uint8_t> Hex(std::string_view h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoul(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// /usr/bin/python3 tests/correlate/netflow_gen.py hex v5
//   NetflowHeader(version=5)/NetflowHeaderV5(sysUptime=100000, unixSecs=1700000000, flowSequence=1)/
//   NetflowRecordV5(src="10.0.0.5", dst="10.1.1.1", srcport=51234, dstport=443, prot=6, dpkts=10, dOctets=5000,
//                   first=95000, last=99000, input=3, output=5)/NetflowRecordV5(<the reverse, 20000 bytes>)
constexpr char kV5[] =
    "00050002000186a06553f1000000000000000001000000000a0000050a01010100000000000300050000000a0000138800017318000182b8c8"
    "2201bb0002060000000000000000000a0101010a00000500000000000500030000001400004e2000017318000182b801bbc8220002060000"
    "00000000000000";
// /usr/bin/python3 tests/correlate/netflow_gen.py hex v9_template
//   NetflowHeader(version=9)/NetflowHeaderV9(sysUptime=100000, unixSecs=1700000000, SourceID=42)/
//   NetflowFlowsetV9(flowSetID=0, templates=[NetflowTemplateV9(templateID=256, template_fields=[8/4, 12/4, 7/2,
//                    11/2, 4/1, 1/4, 2/4, 22/4, 21/4, 10/2, 14/2])])
constexpr char kV9Template[] =
    "00090001000186a06553f100000000000000002a000000340100000b00080004000c000400070002000b0002000400010001000400020004"
    "0016000400150004000a0002000e0002";
// /usr/bin/python3 tests/correlate/netflow_gen.py hex v9_data
//   ...NetflowDataflowsetV9(templateID=256, records=[NetflowRecordV9(fieldValue=<10.0.0.5:51234 -> 10.1.1.1:443 tcp,
//   7000 bytes, 7 packets, first=96000, last=98000, in 4, out 6>)])
constexpr char kV9Data[] =
    "00090001000186a06553f100000000000000002a010000280a0000050a010101c82201bb0600001b58000000070001770000017ed0000400"
    "06000000";
// /usr/bin/python3 tests/correlate/netflow_gen.py hex ipfix
//   NetflowHeader(version=10)/NetflowHeaderV10(ExportTime=1700000000, ObservationDomainID=7)/
//   NetflowFlowsetV9(flowSetID=2, templates=[300: 8/4 12/4 7/2 11/2 4/1 1/8 2/8 152/8 153/8 10/4 14/4 34/4,
//                                            301: 27/16 28/16 7/2 11/2 4/1 1/8 2/8 152/8 153/8])/
//   NetflowDataflowsetV9(templateID=300, <900 bytes, 9 packets, -3 s..-1 s, in 11, out 12, samplingInterval 10>)/
//   NetflowDataflowsetV9(templateID=301, <[2001:db8::5]:40000 -> [2001:db8::1]:53 udp, 120 bytes, 1 packet>)
//   (the message length patched to the 252 bytes built; scapy 2.5 writes 250, before the last set's padding)
constexpr char kIpfix[] =
    "000a00fc6553f100000000000000000700020060012c000c00080004000c000400070002000b000200040001000100080002000800980008"
    "00990008000a0004000e000400220004012d0009001b0010001c001000070002000b0002000400010001000800020008009800080099000801"
    "2c00400a0000050a010101c82201bb06000000000000038400000000000000090000018bcfe55c480000018bcfe564180000000b0000000c00"
    "00000a000000012d004c20010db800000000000000000000000520010db80000000000000000000000019c40003511000000000000007800"
    "000000000000010000018bcfe55c480000018bcfe56418000000";

const IpAddr kExporter = *ParseIp("10.1.1.254");

struct Harness {
  explicit Harness(NetflowParserOptions o = {}) : parser(o) {}
  std::vector<FlowRecord> Feed(const std::vector<uint8_t>& pkt, int64_t now = kExportNs + kSec) {
    std::vector<FlowRecord> out;
    parser.Parse(kExporter, pkt.data(), pkt.size(), now, &out);
    return out;
  }
  NetflowParser parser;
};

// A byte builder for the malformed cases.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes& U8(uint8_t v) { return b.push_back(v), *this; }
  Bytes& U16(uint16_t v) { return U8(v >> 8).U8(v & 0xff); }
  Bytes& U32(uint32_t v) { return U16(v >> 16).U16(v & 0xffff); }
  Bytes& U64(uint64_t v) { return U32(static_cast<uint32_t>(v >> 32)).U32(static_cast<uint32_t>(v)); }
  Bytes& Ip(const char* a) {
    auto ip = *ParseIp(a);
    for (int i = 12; i < 16; ++i) U8(ip.bytes[i]);
    return *this;
  }
  // Patches the 16-bit length at `at` with the size from `from` to the end.
  Bytes& FixLen(size_t at, size_t from) {
    size_t n = b.size() - from;
    b[at] = static_cast<uint8_t>(n >> 8);
    b[at + 1] = static_cast<uint8_t>(n);
    return *this;
  }
};

Bytes IpfixHeader(uint32_t domain = 7) {
  Bytes h;
  h.U16(10).U16(0).U32(1700000000).U32(1).U32(domain);
  return h;
}

TEST(NetflowV5, ScapyFixture) {
  Harness h;
  auto recs = h.Feed(Hex(kV5));
  ASSERT_EQ(recs.size(), 2u);
  const FlowRecord& f = recs[0];
  EXPECT_EQ(f.version, 5);
  EXPECT_EQ(f.tuple.src.ToString(), "10.0.0.5");
  EXPECT_EQ(f.tuple.dst.ToString(), "10.1.1.1");
  EXPECT_EQ(f.tuple.src_port, 51234);
  EXPECT_EQ(f.tuple.dst_port, 443);
  EXPECT_EQ(f.tuple.protocol, IPPROTO_TCP);
  EXPECT_EQ(f.bytes, 5000u);
  EXPECT_EQ(f.packets, 10u);
  EXPECT_EQ(f.input_if, 3u);
  EXPECT_EQ(f.output_if, 5u);
  EXPECT_EQ(f.start_ns, kExportNs - 5 * kSec);  // uptime-relative times become wall clock
  EXPECT_EQ(f.end_ns, kExportNs - 1 * kSec);
  EXPECT_EQ(f.sampling_interval, 1u);
  EXPECT_EQ(recs[1].bytes, 20000u);
  EXPECT_EQ(recs[1].tuple.src_port, 443);
  EXPECT_EQ(h.parser.counters().records, 2u);
}

TEST(NetflowV5, CountThatLiesIsRefused) {
  auto pkt = Hex(kV5);
  pkt[3] = 30;  // claims 30 records, carries 2
  Harness h;
  EXPECT_TRUE(h.Feed(pkt).empty());
  EXPECT_EQ(h.parser.counters().malformed_datagrams, 1u);
  pkt[3] = 0;
  EXPECT_TRUE(h.Feed(pkt).empty());
  EXPECT_TRUE(h.Feed(std::vector<uint8_t>(pkt.begin(), pkt.begin() + 20)).empty());
  EXPECT_EQ(h.parser.counters().malformed_datagrams, 3u);
}

TEST(NetflowV9, TemplateThenData) {
  Harness h;
  EXPECT_TRUE(h.Feed(Hex(kV9Template)).empty());
  EXPECT_EQ(h.parser.template_count(), 1u);
  auto recs = h.Feed(Hex(kV9Data));
  ASSERT_EQ(recs.size(), 1u);
  const FlowRecord& f = recs[0];
  EXPECT_EQ(f.version, 9);
  EXPECT_EQ(f.observation_domain, 42u);
  EXPECT_EQ(f.bytes, 7000u);
  EXPECT_EQ(f.packets, 7u);
  EXPECT_EQ(f.input_if, 4u);
  EXPECT_EQ(f.output_if, 6u);
  EXPECT_EQ(f.start_ns, kExportNs - 4 * kSec);
  EXPECT_EQ(f.end_ns, kExportNs - 2 * kSec);
  EXPECT_EQ(f.tuple.src_port, 51234);
}

TEST(NetflowV9, DataBeforeItsTemplateIsDecodedWhenTheTemplateComes) {
  Harness h;
  EXPECT_TRUE(h.Feed(Hex(kV9Data)).empty());
  EXPECT_EQ(h.parser.counters().sets_without_template, 1u);
  EXPECT_EQ(h.parser.pending_count(), 1u);
  auto recs = h.Feed(Hex(kV9Template));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].bytes, 7000u);
  EXPECT_EQ(recs[0].start_ns, kExportNs - 4 * kSec);  // times from the data's own export header
  EXPECT_EQ(h.parser.counters().pending_decoded, 1u);
  EXPECT_EQ(h.parser.pending_count(), 0u);
}

TEST(NetflowV9, TemplatesAreScopedByExporterAndSourceId) {
  Harness h;
  h.Feed(Hex(kV9Template));
  auto data = Hex(kV9Data);
  data[19] = 43;  // another source ID of the same exporter: its template 256 is unknown
  EXPECT_TRUE(h.Feed(data).empty());
  std::vector<FlowRecord> out;
  auto good = Hex(kV9Data);
  h.parser.Parse(*ParseIp("10.99.0.1"), good.data(), good.size(), kExportNs, &out);  // another exporter
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(h.parser.counters().sets_without_template, 2u);
}

TEST(NetflowV9, PendingDataIsBoundedAndExpires) {
  NetflowParserOptions o;
  o.max_pending_sets = 2;
  o.pending_timeout_ns = 10 * kSec;
  Harness h(o);
  for (int i = 0; i < 3; ++i) h.Feed(Hex(kV9Data));
  EXPECT_EQ(h.parser.pending_count(), 2u);
  EXPECT_EQ(h.parser.counters().pending_dropped, 1u);
  h.parser.Expire(kExportNs + 60 * kSec);
  EXPECT_EQ(h.parser.pending_count(), 0u);
  EXPECT_EQ(h.parser.counters().pending_dropped, 3u);
}

TEST(NetflowV9, TemplatesExpire) {
  NetflowParserOptions o;
  o.template_timeout_ns = 30 * kSec;
  Harness h(o);
  h.Feed(Hex(kV9Template), kExportNs);
  EXPECT_EQ(h.Feed(Hex(kV9Data), kExportNs + 10 * kSec).size(), 1u);
  EXPECT_TRUE(h.Feed(Hex(kV9Data), kExportNs + 31 * kSec).empty());
  EXPECT_EQ(h.parser.counters().templates_expired, 1u);
}

TEST(NetflowV9, TruncatedAndLyingFlowsets) {
  Harness h;
  h.Feed(Hex(kV9Template));
  auto data = Hex(kV9Data);
  data.resize(data.size() - 10);  // the flowset says 40 bytes, 30 arrived
  EXPECT_TRUE(h.Feed(data).empty());
  EXPECT_EQ(h.parser.counters().malformed_sets, 1u);
  auto tiny = Hex(kV9Data);
  tiny[22] = 0;
  tiny[23] = 2;  // flowset length 2 (< its own header)
  EXPECT_TRUE(h.Feed(tiny).empty());
  EXPECT_EQ(h.parser.counters().malformed_sets, 2u);
  // A template claiming 60000 fields in a 52-byte flowset.
  auto tmpl = Hex(kV9Template);
  tmpl[26] = 0xea;
  tmpl[27] = 0x60;
  h.Feed(tmpl);
  EXPECT_GE(h.parser.counters().malformed_sets, 3u);
}

TEST(NetflowV9, ZeroLengthFieldTemplateIsRefused) {
  Harness h;
  Bytes p;
  p.U16(9).U16(1).U32(100000).U32(1700000000).U32(1).U32(42);
  size_t fs = p.b.size();
  p.U16(0).U16(0).U16(256).U16(2).U16(8).U16(4).U16(12).U16(0);  // IPV4_DST_ADDR with length 0
  p.FixLen(fs + 2, fs);
  EXPECT_TRUE(h.Feed(p.b).empty());
  EXPECT_EQ(h.parser.counters().malformed_templates, 1u);
  EXPECT_EQ(h.parser.template_count(), 0u);
  // Every field zero-length: the record would never advance. Refused the same way.
  Bytes q;
  q.U16(9).U16(1).U32(100000).U32(1700000000).U32(1).U32(42);
  fs = q.b.size();
  q.U16(0).U16(0).U16(257).U16(1).U16(8).U16(0);
  q.FixLen(fs + 2, fs);
  h.Feed(q.b);
  EXPECT_EQ(h.parser.counters().malformed_templates, 2u);
}

TEST(NetflowV9, OptionsCarrySamplingForLaterData) {
  Harness h;
  h.Feed(Hex(kV9Template));
  Bytes p;
  p.U16(9).U16(2).U32(100000).U32(1700000000).U32(2).U32(42);
  size_t fs = p.b.size();
  // Options template 257: scope System (1) / 4 bytes, option SAMPLING_INTERVAL (34) / 4 bytes.
  p.U16(1).U16(0).U16(257).U16(4).U16(4).U16(1).U16(4).U16(34).U16(4).U16(0);  // + 2 bytes padding
  p.FixLen(fs + 2, fs);
  fs = p.b.size();
  p.U16(257).U16(0).U32(0).U32(1000);
  p.FixLen(fs + 2, fs);
  h.Feed(p.b);
  EXPECT_EQ(h.parser.counters().options_records, 1u);
  auto recs = h.Feed(Hex(kV9Data));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].sampling_interval, 1000u);
  h.parser.SetSamplingOverride(kExporter, 5);  // the operator knows better
  EXPECT_EQ(h.Feed(Hex(kV9Data))[0].sampling_interval, 5u);
}

TEST(Ipfix, ScapyFixtureWithTwoTemplatesAndInlineSampling) {
  Harness h;
  auto recs = h.Feed(Hex(kIpfix));
  ASSERT_EQ(recs.size(), 2u);
  const FlowRecord& v4 = recs[0];
  EXPECT_EQ(v4.version, 10);
  EXPECT_EQ(v4.observation_domain, 7u);
  EXPECT_EQ(v4.bytes, 900u);
  EXPECT_EQ(v4.packets, 9u);
  EXPECT_EQ(v4.start_ns, kExportNs - 3 * kSec);
  EXPECT_EQ(v4.end_ns, kExportNs - 1 * kSec);
  EXPECT_EQ(v4.input_if, 11u);
  EXPECT_EQ(v4.output_if, 12u);
  EXPECT_EQ(v4.sampling_interval, 10u);
  const FlowRecord& v6 = recs[1];
  EXPECT_EQ(v6.tuple.src.ToString(), "2001:db8::5");
  EXPECT_EQ(v6.tuple.dst_port, 53);
  EXPECT_EQ(v6.tuple.protocol, IPPROTO_UDP);
  EXPECT_EQ(v6.bytes, 120u);
  EXPECT_EQ(h.parser.counters().templates, 2u);
}

TEST(Ipfix, MessageLengthThatLiesIsRefused) {
  auto pkt = Hex(kIpfix);
  pkt[2] = 0xff;
  pkt[3] = 0xff;
  Harness h;
  EXPECT_TRUE(h.Feed(pkt).empty());
  pkt[2] = 0;
  pkt[3] = 10;  // shorter than the header
  EXPECT_TRUE(h.Feed(pkt).empty());
  EXPECT_EQ(h.parser.counters().malformed_datagrams, 2u);
  // What scapy writes unpatched: 250, so the last set runs 2 bytes past the message. The sets before it still count.
  pkt[3] = 250;
  EXPECT_EQ(h.Feed(pkt).size(), 1u);
  EXPECT_EQ(h.parser.counters().malformed_sets, 1u);
}

TEST(Ipfix, VariableLengthFieldThatLiesStopsTheSet) {
  Harness h;
  Bytes p = IpfixHeader();
  size_t ts = p.b.size();
  // Template 310: src/dst IPv4, interfaceName (82) variable-length.
  p.U16(2).U16(0).U16(310).U16(3).U16(8).U16(4).U16(12).U16(4).U16(82).U16(65535);
  p.FixLen(ts + 2, ts);
  size_t ds = p.b.size();
  p.U16(310).U16(0).Ip("10.0.0.5").Ip("10.1.1.1").U8(3).U8('e').U8('t').U8('h');  // a good record
  p.Ip("10.0.0.6").Ip("10.1.1.1").U8(200).U8('x');                                // says 200, has 1
  p.FixLen(ds + 2, ds);
  p.FixLen(2, 0);
  auto recs = h.Feed(p.b);
  EXPECT_EQ(recs.size(), 1u);
  EXPECT_EQ(h.parser.counters().malformed_sets, 1u);
  // Long form: 255 then a 2-byte length.
  Bytes q = IpfixHeader();
  ds = q.b.size();
  q.U16(310).U16(0).Ip("10.0.0.7").Ip("10.1.1.1").U8(255).U16(2).U8('a').U8('b');
  q.FixLen(ds + 2, ds);
  q.FixLen(2, 0);
  EXPECT_EQ(h.Feed(q.b).size(), 1u);
}

TEST(Ipfix, WithdrawalAndOptionsSampling) {
  Harness h;
  h.Feed(Hex(kIpfix));
  EXPECT_EQ(h.parser.template_count(), 2u);
  Bytes w = IpfixHeader();
  size_t s = w.b.size();
  w.U16(2).U16(0).U16(301).U16(0);  // withdraw template 301
  w.FixLen(s + 2, s);
  w.FixLen(2, 0);
  h.Feed(w.b);
  EXPECT_EQ(h.parser.template_count(), 1u);
  EXPECT_EQ(h.parser.counters().template_withdrawals, 1u);

  // Options template 400: scope observationDomainId (149), samplingPacketInterval (305), samplingPacketSpace (306):
  // 1 packet taken, 99 skipped -> 1 in 100.
  Bytes o = IpfixHeader();
  s = o.b.size();
  o.U16(3).U16(0).U16(400).U16(3).U16(1).U16(149).U16(4).U16(305).U16(4).U16(306).U16(4).U16(0);
  o.FixLen(s + 2, s);
  size_t d = o.b.size();
  o.U16(400).U16(0).U32(7).U32(1).U32(99);
  o.FixLen(d + 2, d);
  o.FixLen(2, 0);
  h.Feed(o.b);
  // A template without inline sampling now inherits the domain's.
  Bytes t = IpfixHeader();
  s = t.b.size();
  t.U16(2).U16(0).U16(320).U16(5).U16(8).U16(4).U16(12).U16(4).U16(7).U16(2).U16(11).U16(2).U16(1).U16(4);
  t.FixLen(s + 2, s);
  d = t.b.size();
  t.U16(320).U16(0).Ip("10.0.0.5").Ip("10.1.1.1").U16(51234).U16(443).U32(1234);
  t.FixLen(d + 2, d);
  t.FixLen(2, 0);
  auto recs = h.Feed(t.b);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].sampling_interval, 100u);
  EXPECT_EQ(recs[0].start_ns, kExportNs);  // no time elements: the export time
}

TEST(Ipfix, OptionsTemplateWithoutScopeIsRefused) {
  Harness h;
  Bytes o = IpfixHeader();
  size_t s = o.b.size();
  o.U16(3).U16(0).U16(401).U16(1).U16(0).U16(305).U16(4);
  o.FixLen(s + 2, s);
  o.FixLen(2, 0);
  h.Feed(o.b);
  EXPECT_EQ(h.parser.counters().malformed_templates, 1u);
  EXPECT_EQ(h.parser.template_count(), 0u);
}

TEST(Ipfix, ReverseCountersOfBiflows) {
  Harness h;
  Bytes p = IpfixHeader();
  size_t s = p.b.size();
  // Template 330: addresses, octetDeltaCount, and RFC 5103 reverseOctetDeltaCount (enterprise 29305, IE 1).
  p.U16(2).U16(0).U16(330).U16(4).U16(8).U16(4).U16(12).U16(4).U16(1).U16(8).U16(0x8001).U16(8).U32(29305);
  p.FixLen(s + 2, s);
  size_t d = p.b.size();
  p.U16(330).U16(0).Ip("10.0.0.5").Ip("10.1.1.1").U64(100).U64(5000);
  p.FixLen(d + 2, d);
  p.FixLen(2, 0);
  auto recs = h.Feed(p.b);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].bytes, 100u);
  EXPECT_EQ(recs[0].reverse_bytes, 5000u);
}

TEST(NetflowParser, TemplateCacheIsBounded) {
  NetflowParserOptions o;
  o.max_templates = 2;
  Harness h(o);
  for (uint16_t id = 500; id < 503; ++id) {
    Bytes t = IpfixHeader();
    size_t s = t.b.size();
    t.U16(2).U16(0).U16(id).U16(1).U16(1).U16(4);
    t.FixLen(s + 2, s);
    t.FixLen(2, 0);
    h.Feed(t.b, kExportNs + id);
  }
  EXPECT_EQ(h.parser.template_count(), 2u);
  EXPECT_EQ(h.parser.counters().templates_evicted, 1u);
}

TEST(NetflowParser, UnknownVersionsAndRunts) {
  Harness h;
  EXPECT_TRUE(h.Feed({0, 7, 1, 2, 3}).empty());
  EXPECT_TRUE(h.Feed({0}).empty());
  EXPECT_TRUE(h.Feed({}).empty());
  EXPECT_TRUE(h.Feed({0, 9, 0}).empty());
  EXPECT_TRUE(h.Feed({0, 10, 0, 16}).empty());
  auto c = h.parser.counters();
  EXPECT_EQ(c.unsupported_versions, 1u);
  EXPECT_EQ(c.malformed_datagrams, 4u);
}

}  // namespace
}  // namespace netmon::correlate

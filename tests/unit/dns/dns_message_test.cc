// SPDX-License-Identifier: Apache-2.0
#include "dns/dns_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dns_test_util.h"

namespace netmon::dns {
namespace {

using testing::FromHex;
using testing::MessageBuilder;

// Fixtures made with scapy 2.5 (/usr/bin/python3 -c 'from scapy.all import *; print(bytes(<expr>).hex())').

// DNS(id=0x1234, rd=1, qd=DNSQR(qname="example.com", qtype="A"))
const char kQueryA[] = "123401000001000000000000076578616d706c6503636f6d0000010001";

// DNS(id=0x1234, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.com"),
//     an=DNSRR(rrname="example.com", type="A", ttl=300, rdata="93.184.216.34"))
const char kResponseA[] =
    "123481800001000100000000076578616d706c6503636f6d0000010001076578616d706c6503636f6d00000100010000012c00045db8"
    "d822";

// dns_compress(<kResponseA's expression>)
const char kResponseACompressed[] =
    "123481800001000100000000076578616d706c6503636f6d0000010001c00c000100010000012c00045db8d822";

// dns_compress(DNS(id=0x0a0b, qr=1, rd=1, ra=1, qd=DNSQR(qname="ipv6.example.org", qtype="AAAA"),
//     an=DNSRR(rrname="ipv6.example.org", type="AAAA", ttl=60, rdata="2001:db8::1")))
const char kResponseAaaa[] =
    "0a0b818000010001000000000469707636076578616d706c65036f726700001c0001c00c001c00010000003c001020010db800000000"
    "0000000000000001";

// dns_compress(DNS(id=0xbeef, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.com", qtype="A"),
//     an=DNSRR(rrname="www.example.com", type="CNAME", ttl=3600, rdata="edge.example.net")
//       /DNSRR(rrname="edge.example.net", type="CNAME", ttl=60, rdata="e1.cdn.example.net")
//       /DNSRR(rrname="e1.cdn.example.net", type="A", ttl=20, rdata="192.0.2.10")
//       /DNSRR(rrname="e1.cdn.example.net", type="A", ttl=20, rdata="192.0.2.11"),
//     ar=DNSRROPT(rclass=1232)))
// Names point into the question, into CNAME rdata and into other pointed-to names.
const char kCnameChain[] =
    "beef8180000100040000000103777777076578616d706c6503636f6d0000010001c00c0005000100000e100012046564676507657861"
    "6d706c65036e657400c02d000500010000003c00090265310363646ec032c04b00010001000000140004c000020ac04b000100010000"
    "00140004c000020b00002904d0000080000000";

// dns_compress(DNS(id=0x4242, qr=1, rd=1, ra=1, rcode=3, qd=DNSQR(qname="nope.example.com", qtype="A"),
//     ns=DNSRRSOA(rrname="example.com", ttl=900, mname="ns.example.com", rname="hostmaster.example.com",
//                 serial=2024010101, refresh=7200, retry=3600, expire=1209600, minimum=300)))
const char kNxdomain[] =
    "424281830001000000010000046e6f7065076578616d706c6503636f6d0000010001c01100060001000003840026026e73c0110a686f"
    "73746d6173746572c01178a3f17500001c2000000e10001275000000012c";

// dns_compress(DNS(id=7, qr=1, aa=1, qd=DNSQR(qname="example.com", qtype="MX"),
//     an=DNSRRMX(rrname="example.com", type="MX", ttl=300, preference=10, exchange="mail.example.com")))
const char kMx[] =
    "000785000001000100000000076578616d706c6503636f6d00000f0001c00c000f00010000012c0009000a046d61696cc00c";

// dns_compress(DNS(id=8, qr=1, qd=DNSQR(qname="10.2.0.192.in-addr.arpa", qtype="PTR"),
//     an=DNSRR(rrname="10.2.0.192.in-addr.arpa", type="PTR", ttl=300, rdata="host.example.com"),
//     ns=DNSRR(rrname="2.0.192.in-addr.arpa", type="NS", ttl=300, rdata="ns1.example.com")))
const char kPtrNs[] =
    "000881000001000100010000023130013201300331393207696e2d61646472046172706100000c0001c00c000c00010000012c001204"
    "686f7374076578616d706c6503636f6d00c00f000200010000012c0006036e7331c03a";

// DNS(id=1, rd=1, qd=DNSQR(qname=".", qtype="NS"))
const char kRootQuery[] = "0001010000010000000000000000020001";

TEST(DnsMessage, DecodesQuery) {
  auto bytes = FromHex(kQueryA);
  DecodeResult r = Decode(bytes);
  ASSERT_TRUE(r.complete()) << r.error_detail;
  const Header& h = r.message.header;
  EXPECT_EQ(h.id, 0x1234);
  EXPECT_FALSE(h.qr);
  EXPECT_TRUE(h.rd);
  EXPECT_FALSE(h.ra);
  EXPECT_EQ(h.opcode, 0);
  EXPECT_EQ(h.qdcount, 1);
  ASSERT_EQ(r.message.questions.size(), 1u);
  EXPECT_EQ(r.message.questions[0].name, "example.com");
  EXPECT_EQ(r.message.questions[0].qtype, kTypeA);
  EXPECT_EQ(r.message.questions[0].qclass, kClassIN);
  EXPECT_TRUE(r.message.answers.empty());
  EXPECT_EQ(r.offset, bytes.size());
  EXPECT_EQ(r.message.trailing_bytes, 0u);
}

TEST(DnsMessage, DecodesAResponseWithAndWithoutCompression) {
  for (const char* hex : {kResponseA, kResponseACompressed}) {
    auto bytes = FromHex(hex);
    DecodeResult r = Decode(bytes);
    ASSERT_TRUE(r.complete()) << r.error_detail;
    EXPECT_TRUE(r.message.header.qr);
    EXPECT_TRUE(r.message.header.ra);
    EXPECT_EQ(RcodeName(r.message.header.rcode), "NOERROR");
    ASSERT_EQ(r.message.answers.size(), 1u);
    const ResourceRecord& a = r.message.answers[0];
    EXPECT_EQ(a.name, "example.com");
    EXPECT_EQ(a.type, kTypeA);
    EXPECT_EQ(a.rclass, kClassIN);
    EXPECT_EQ(a.ttl, 300u);
    EXPECT_EQ(a.rdlength, 4);
    EXPECT_EQ(a.kind, RdataKind::kAddress);
    EXPECT_EQ(a.text, "93.184.216.34");
    EXPECT_EQ(a.addr_len, 4);
    EXPECT_EQ(a.addr[0], 93);
    EXPECT_EQ(a.addr[3], 34);
  }
}

TEST(DnsMessage, DecodesAaaa) {
  auto bytes = FromHex(kResponseAaaa);
  DecodeResult r = Decode(bytes);
  ASSERT_TRUE(r.complete()) << r.error_detail;
  EXPECT_EQ(r.message.questions[0].name, "ipv6.example.org");
  EXPECT_EQ(TypeName(r.message.questions[0].qtype), "AAAA");
  ASSERT_EQ(r.message.answers.size(), 1u);
  EXPECT_EQ(r.message.answers[0].name, "ipv6.example.org");
  EXPECT_EQ(r.message.answers[0].kind, RdataKind::kAddress);
  EXPECT_EQ(r.message.answers[0].text, "2001:db8::1");
  EXPECT_EQ(r.message.answers[0].addr_len, 16);
  EXPECT_EQ(r.message.answers[0].ttl, 60u);
}

TEST(DnsMessage, DecodesCnameChainWithNestedCompression) {
  auto bytes = FromHex(kCnameChain);
  DecodeResult r = Decode(bytes);
  ASSERT_TRUE(r.complete()) << r.error_detail;
  const auto& an = r.message.answers;
  ASSERT_EQ(an.size(), 4u);
  EXPECT_EQ(an[0].name, "www.example.com");
  EXPECT_EQ(an[0].type, kTypeCNAME);
  EXPECT_EQ(an[0].kind, RdataKind::kName);
  EXPECT_EQ(an[0].text, "edge.example.net");
  EXPECT_EQ(an[0].ttl, 3600u);
  EXPECT_EQ(an[1].name, "edge.example.net");    // a pointer into the first CNAME's rdata
  EXPECT_EQ(an[1].text, "e1.cdn.example.net");  // labels, then a pointer to "example.net" inside rdata
  EXPECT_EQ(an[2].name, "e1.cdn.example.net");  // pointer -> labels -> pointer
  EXPECT_EQ(an[2].text, "192.0.2.10");
  EXPECT_EQ(an[3].text, "192.0.2.11");
  ASSERT_EQ(r.message.additionals.size(), 1u);
  const ResourceRecord& opt = r.message.additionals[0];
  EXPECT_EQ(opt.name, ".");
  EXPECT_EQ(opt.type, kTypeOPT);
  EXPECT_EQ(opt.rclass, 1232);  // OPT: the advertised UDP payload size
  EXPECT_EQ(opt.kind, RdataKind::kOpaque);
  EXPECT_EQ(TypeName(opt.type), "TYPE41");
}

TEST(DnsMessage, DecodesNxdomainWithSoaInAuthority) {
  auto bytes = FromHex(kNxdomain);
  DecodeResult r = Decode(bytes);
  ASSERT_TRUE(r.complete()) << r.error_detail;
  EXPECT_EQ(r.message.header.rcode, 3);
  EXPECT_EQ(RcodeName(r.message.header.rcode), "NXDOMAIN");
  EXPECT_EQ(r.message.questions[0].name, "nope.example.com");
  EXPECT_TRUE(r.message.answers.empty());
  ASSERT_EQ(r.message.authorities.size(), 1u);
  EXPECT_EQ(r.message.authorities[0].name, "example.com");
  EXPECT_EQ(TypeName(r.message.authorities[0].type), "SOA");
  EXPECT_EQ(r.message.authorities[0].kind, RdataKind::kOpaque);
  EXPECT_EQ(r.message.authorities[0].rdlength, 0x26);
  EXPECT_EQ(r.message.authorities[0].ttl, 900u);
}

TEST(DnsMessage, DecodesMx) {
  auto bytes = FromHex(kMx);
  DecodeResult r = Decode(bytes);
  ASSERT_TRUE(r.complete()) << r.error_detail;
  EXPECT_TRUE(r.message.header.aa);
  ASSERT_EQ(r.message.answers.size(), 1u);
  EXPECT_EQ(r.message.answers[0].kind, RdataKind::kMx);
  EXPECT_EQ(r.message.answers[0].mx_preference, 10);
  EXPECT_EQ(r.message.answers[0].text, "mail.example.com");
}

TEST(DnsMessage, DecodesPtrAndNs) {
  auto bytes = FromHex(kPtrNs);
  DecodeResult r = Decode(bytes);
  ASSERT_TRUE(r.complete()) << r.error_detail;
  ASSERT_EQ(r.message.answers.size(), 1u);
  EXPECT_EQ(r.message.answers[0].name, "10.2.0.192.in-addr.arpa");
  EXPECT_EQ(r.message.answers[0].kind, RdataKind::kName);
  EXPECT_EQ(r.message.answers[0].text, "host.example.com");
  ASSERT_EQ(r.message.authorities.size(), 1u);
  EXPECT_EQ(r.message.authorities[0].name, "2.0.192.in-addr.arpa");  // pointer into the middle of a name
  EXPECT_EQ(r.message.authorities[0].type, kTypeNS);
  EXPECT_EQ(r.message.authorities[0].text, "ns1.example.com");
}

TEST(DnsMessage, RootNameIsDot) {
  auto bytes = FromHex(kRootQuery);
  DecodeResult r = Decode(bytes);
  ASSERT_TRUE(r.complete()) << r.error_detail;
  ASSERT_EQ(r.message.questions.size(), 1u);
  EXPECT_EQ(r.message.questions[0].name, ".");
  EXPECT_EQ(r.message.questions[0].qtype, kTypeNS);
}

TEST(DnsMessage, DecodesHeaderFlags) {
  // QR=1, opcode=2 (STATUS), AA, TC, RD, RA, AD, CD, rcode=5
  MessageBuilder b(0xffff, 0x8000 | 2 << 11 | 0x0400 | 0x0200 | 0x0100 | 0x0080 | 0x0020 | 0x0010 | 5, 0, 0);
  DecodeResult r = Decode(b.bytes());
  ASSERT_TRUE(r.complete()) << r.error_detail;
  const Header& h = r.message.header;
  EXPECT_EQ(h.id, 0xffff);
  EXPECT_TRUE(h.qr);
  EXPECT_EQ(h.opcode, 2);
  EXPECT_TRUE(h.aa);
  EXPECT_TRUE(h.tc);
  EXPECT_TRUE(h.rd);
  EXPECT_TRUE(h.ra);
  EXPECT_TRUE(h.ad);
  EXPECT_TRUE(h.cd);
  EXPECT_EQ(h.rcode, 5);
  EXPECT_EQ(RcodeName(h.rcode), "REFUSED");
  EXPECT_FALSE(r.message.truncated);  // TC is the server's business, not the capture's
}

TEST(DnsMessage, ZeroLengthLabelEndsTheName) {
  // "a", root octet, then what would be more labels is read as qtype/qclass: a zero-length label cannot sit
  // inside a name on the wire.
  MessageBuilder b(1, 0, 1, 0);
  b.Label("a").U8(0).Label("b").Bytes({0x00, 0x01});
  DecodeResult r = Decode(b.bytes());
  ASSERT_TRUE(r.ok()) << r.error_detail;
  EXPECT_EQ(r.message.questions[0].name, "a");
  EXPECT_EQ(r.message.questions[0].qtype, 0x0162);  // 01 'b'
  EXPECT_EQ(r.message.questions[0].qclass, 0x0001);
}

TEST(DnsMessage, EscapesUnprintableAndAmbiguousBytes) {
  MessageBuilder b(1, 0, 1, 0);
  b.Label(std::string("a.b\\c d\x7f", 8)).U8(2).Bytes({0x00, 0xff}).U8(0).U16(1).U16(1);
  DecodeResult r = Decode(b.bytes());
  ASSERT_TRUE(r.ok()) << r.error_detail;
  EXPECT_EQ(r.message.questions[0].name, "a\\.b\\\\c\\032d\\127.\\000\\255");
}

TEST(DnsMessage, ShortHeader) {
  auto bytes = FromHex(kQueryA);
  for (size_t n = 0; n < kHeaderSize; ++n) {
    DecodeResult r = Decode(std::span(bytes).first(n));
    EXPECT_EQ(r.error, DecodeError::kShortHeader) << n;
    EXPECT_FALSE(r.error_detail.empty());
    // A capture that cut the header is no better: there is nothing to decode.
    EXPECT_EQ(Decode(std::span(bytes).first(n), bytes.size()).error, DecodeError::kShortHeader) << n;
  }
}

TEST(DnsMessage, CompressionLoopIsRejected) {
  // Question name at 12: label "a", then a pointer back to 12 -> "a.a.a..." forever.
  MessageBuilder b(1, 0, 1, 0);
  b.Label("a").Pointer(12).U16(1).U16(1);
  DecodeResult r = Decode(b.bytes());
  EXPECT_EQ(r.error, DecodeError::kPointerLoop);
  EXPECT_NE(r.error_detail.find("question 1"), std::string::npos) << r.error_detail;
}

TEST(DnsMessage, CycleThroughAForwardPointerIsRejected) {
  // 12: "a" + pointer to 21 (forward); 21: "b" + pointer to 12.
  MessageBuilder b(1, 0, 1, 0);
  b.Label("a").Pointer(21).U16(1).U16(1).Bytes({0, 0, 0}).Label("b").Pointer(12);
  DecodeResult r = Decode(b.bytes());
  EXPECT_EQ(r.error, DecodeError::kForwardPointer) << r.error_detail;
}

// Names may point into opaque rdata (bytes the decoder never read as a name). A TXT record's rdata at 23 holds
// the gadget "b" + pointer; the second record's name jumps there.
std::vector<uint8_t> GadgetMessage(uint8_t second_target) {
  MessageBuilder b(1, 0x8000, 0, 2);
  b.U8(0).U16(kTypeTXT).U16(kClassIN).U32(1).U16(4);
  EXPECT_EQ(b.size(), 23u);
  b.Label("b").U8(0xc0).U8(second_target);
  b.Pointer(23).U16(kTypeTXT).U16(kClassIN).U32(1).U16(0);
  return b.bytes();
}

TEST(DnsMessage, EachJumpMustLandBelowThePreviousOne) {
  // Second jump to 12 (below 23): fine.
  DecodeResult ok = Decode(GadgetMessage(12));
  ASSERT_TRUE(ok.complete()) << ok.error_detail;
  EXPECT_EQ(ok.message.answers[1].name, "b");
  // Back to 23, where the first jump landed: a loop, though the pointer itself points backwards.
  EXPECT_EQ(Decode(GadgetMessage(23)).error, DecodeError::kPointerLoop);
  // To 24: backwards from the pointer at 25 but above the previous landing point: rejected the same way, since
  // a position above the last landing point could lead back to it.
  EXPECT_EQ(Decode(GadgetMessage(24)).error, DecodeError::kPointerLoop);
}

TEST(DnsMessage, LongPointerChainIsBounded) {
  // Question k's name is a pointer to question k-1's name: legal, each jump lands lower, but question k needs
  // k-1 jumps. Past kMaxPointerJumps the decoder stops instead of doing quadratic work.
  const int n = kMaxPointerJumps + 3;
  MessageBuilder b(1, 0, static_cast<uint16_t>(n), 0);
  std::vector<uint16_t> offsets;
  offsets.push_back(static_cast<uint16_t>(b.size()));
  b.Name({"chain"}).U16(1).U16(1);
  for (int i = 1; i < n; ++i) {
    uint16_t here = static_cast<uint16_t>(b.size());
    b.Pointer(offsets.back()).U16(1).U16(1);
    offsets.push_back(here);
  }
  DecodeResult r = Decode(b.bytes());
  EXPECT_EQ(r.error, DecodeError::kPointerLoop) << r.error_detail;
  // Question 1 + kMaxPointerJumps questions needing 1..kMaxPointerJumps jumps decode fine.
  EXPECT_EQ(r.message.questions.size(), static_cast<size_t>(kMaxPointerJumps) + 1);
  EXPECT_EQ(r.message.questions.back().name, "chain");
}

TEST(DnsMessage, PointerPastEnd) {
  MessageBuilder b(1, 0, 1, 0);
  b.Pointer(0x3fff).U16(1).U16(1);
  DecodeResult r = Decode(b.bytes());
  EXPECT_EQ(r.error, DecodeError::kBadPointer);
  EXPECT_NE(r.error_detail.find("past the message end"), std::string::npos) << r.error_detail;
}

TEST(DnsMessage, PointerIntoHeader) {
  MessageBuilder b(1, 0, 1, 0);
  b.Pointer(4).U16(1).U16(1);
  EXPECT_EQ(Decode(b.bytes()).error, DecodeError::kBadPointer);
}

TEST(DnsMessage, ForwardPointer) {
  // Pointer at 12 to 18 where a valid name sits: still rejected, encoders only point at what they wrote.
  MessageBuilder b(1, 0, 1, 0);
  b.Pointer(18).U16(1).U16(1).Name({"a"});
  DecodeResult r = Decode(b.bytes());
  EXPECT_EQ(r.error, DecodeError::kForwardPointer);
  // A pointer to itself.
  MessageBuilder self(1, 0, 1, 0);
  self.Pointer(12).U16(1).U16(1);
  EXPECT_EQ(Decode(self.bytes()).error, DecodeError::kForwardPointer);
}

// Labels of these lengths make a name of exactly `wire` octets in wire form.
std::vector<std::string> LabelsForWireLength(size_t wire) {
  std::vector<std::string> labels;
  size_t left = wire - 1;  // root octet
  while (left > 0) {
    size_t len = std::min<size_t>(63, left - 1);
    labels.push_back(std::string(len, static_cast<char>('a' + labels.size())));
    left -= len + 1;
  }
  return labels;
}

TEST(DnsMessage, NameOf255OctetsIsAcceptedAnd256Rejected) {
  for (size_t wire : {255u, 256u}) {
    MessageBuilder b(1, 0, 1, 0);
    auto labels = LabelsForWireLength(wire);
    size_t text = labels.size() - 1;
    for (const auto& l : labels) {
      b.Label(l);
      text += l.size();
    }
    b.U8(0).U16(1).U16(1);
    DecodeResult r = Decode(b.bytes());
    if (wire == 255) {
      ASSERT_TRUE(r.ok()) << r.error_detail;
      EXPECT_EQ(r.message.questions[0].name.size(), text);
      EXPECT_EQ(text, 253u);
    } else {
      EXPECT_EQ(r.error, DecodeError::kNameTooLong) << r.error_detail;
    }
  }
}

TEST(DnsMessage, CompressionCannotBypassTheNameLimit) {
  // Question 1: 3 x 63-byte labels (193 octets). Question 2: a 62-byte label + pointer to question 1 = 256.
  MessageBuilder b(1, 0, 2, 0);
  b.Name({std::string(63, 'a'), std::string(63, 'b'), std::string(63, 'c')}).U16(1).U16(1);
  b.Label(std::string(62, 'd')).Pointer(12).U16(1).U16(1);
  DecodeResult r = Decode(b.bytes());
  EXPECT_EQ(r.error, DecodeError::kNameTooLong) << r.error_detail;
  EXPECT_EQ(r.message.questions.size(), 1u);
}

TEST(DnsMessage, LabelOf63IsAcceptedAnd64Rejected) {
  MessageBuilder ok(1, 0, 1, 0);
  ok.Name({std::string(63, 'x')}).U16(1).U16(1);
  DecodeResult r = Decode(ok.bytes());
  ASSERT_TRUE(r.ok()) << r.error_detail;
  EXPECT_EQ(r.message.questions[0].name, std::string(63, 'x'));

  MessageBuilder bad(1, 0, 1, 0);
  bad.Name({std::string(64, 'x')}).U16(1).U16(1);
  DecodeResult rb = Decode(bad.bytes());
  EXPECT_EQ(rb.error, DecodeError::kBadLabel);
  EXPECT_NE(rb.error_detail.find("0x40"), std::string::npos) << rb.error_detail;

  // 0x80: the other reserved label type.
  MessageBuilder ext(1, 0, 1, 0);
  ext.Bytes({0x80, 0x01}).U16(1).U16(1);
  EXPECT_EQ(Decode(ext.bytes()).error, DecodeError::kBadLabel);
}

TEST(DnsMessage, LyingCounts) {
  // One answer on the wire, five announced: the one is kept, the rest is an error.
  auto bytes = FromHex(kResponseACompressed);
  bytes[7] = 5;
  DecodeResult r = Decode(bytes);
  EXPECT_EQ(r.error, DecodeError::kTruncated);
  EXPECT_NE(r.error_detail.find("answer 2"), std::string::npos) << r.error_detail;
  EXPECT_EQ(r.message.answers.size(), 1u);
  EXPECT_EQ(r.message.answers[0].text, "93.184.216.34");

  // 65535 questions announced in a 29-byte message: no giant allocation, a clean error.
  auto q = FromHex(kQueryA);
  q[4] = q[5] = 0xff;
  DecodeResult rq = Decode(q);
  EXPECT_EQ(rq.error, DecodeError::kTruncated);
  EXPECT_EQ(rq.message.questions.size(), 1u);
  EXPECT_LT(rq.message.questions.capacity(), 16u);

  // Fewer announced than present: the rest is trailing bytes, not an error.
  auto fewer = FromHex(kResponseACompressed);
  fewer[7] = 0;
  DecodeResult rf = Decode(fewer);
  ASSERT_TRUE(rf.complete()) << rf.error_detail;
  EXPECT_EQ(rf.message.trailing_bytes, 16u);
}

TEST(DnsMessage, RdlengthPastEnd) {
  auto bytes = FromHex(kResponseACompressed);
  bytes[bytes.size() - 5] = 5;  // rdlength 4 -> 5
  DecodeResult r = Decode(bytes);
  EXPECT_EQ(r.error, DecodeError::kTruncated);
  EXPECT_NE(r.error_detail.find("rdata"), std::string::npos) << r.error_detail;
}

TEST(DnsMessage, BadRdata) {
  // A record with 5 bytes of rdata.
  MessageBuilder a(1, 0x8000, 0, 1);
  a.Name({"x"}).U16(kTypeA).U16(kClassIN).U32(1).U16(5).Bytes({1, 2, 3, 4, 5});
  EXPECT_EQ(Decode(a.bytes()).error, DecodeError::kBadRdata);

  // AAAA with 4.
  MessageBuilder aaaa(1, 0x8000, 0, 1);
  aaaa.Name({"x"}).U16(kTypeAAAA).U16(kClassIN).U32(1).U16(4).Bytes({1, 2, 3, 4});
  EXPECT_EQ(Decode(aaaa.bytes()).error, DecodeError::kBadRdata);

  // CNAME whose name runs past rdlength (3) into the bytes that follow.
  MessageBuilder cname(1, 0x8000, 0, 1);
  cname.Name({"x"}).U16(kTypeCNAME).U16(kClassIN).U32(1).U16(3).Name({"abcd"});
  DecodeResult rc = Decode(cname.bytes());
  EXPECT_EQ(rc.error, DecodeError::kBadRdata);
  EXPECT_NE(rc.error_detail.find("overruns"), std::string::npos) << rc.error_detail;

  // CNAME with bytes left over after its name.
  MessageBuilder extra(1, 0x8000, 0, 1);
  extra.Name({"x"}).U16(kTypeCNAME).U16(kClassIN).U32(1).U16(4).Name({"a"}).U8(0);
  EXPECT_EQ(Decode(extra.bytes()).error, DecodeError::kBadRdata);

  // MX too short for its preference.
  MessageBuilder mx(1, 0x8000, 0, 1);
  mx.Name({"x"}).U16(kTypeMX).U16(kClassIN).U32(1).U16(1).U8(0);
  EXPECT_EQ(Decode(mx.bytes()).error, DecodeError::kBadRdata);
}

TEST(DnsMessage, CnameRdataMayPointOutsideIt) {
  MessageBuilder b(1, 0x8000, 0, 1);
  b.Name({"x"}).U16(kTypeCNAME).U16(kClassIN).U32(1).U16(4).Label("y").Pointer(12);
  DecodeResult r = Decode(b.bytes());
  ASSERT_TRUE(r.complete()) << r.error_detail;
  EXPECT_EQ(r.message.answers[0].text, "y.x");
}

TEST(DnsMessage, NonInternetAddressRecordsStayOpaque) {
  // CHAOS-class A records carry a different layout (RFC 1035 §3.4.1 is IN only).
  MessageBuilder b(1, 0x8000, 0, 1);
  b.Name({"x"}).U16(kTypeA).U16(3).U32(1).U16(6).Bytes({1, 2, 3, 4, 5, 6});
  DecodeResult r = Decode(b.bytes());
  ASSERT_TRUE(r.complete()) << r.error_detail;
  EXPECT_EQ(r.message.answers[0].kind, RdataKind::kOpaque);
  EXPECT_EQ(r.message.answers[0].rdlength, 6);
  EXPECT_TRUE(r.message.answers[0].text.empty());
}

bool SameRecords(const std::vector<ResourceRecord>& part, const std::vector<ResourceRecord>& whole) {
  if (part.size() > whole.size()) return false;
  for (size_t i = 0; i < part.size(); ++i) {
    if (part[i].name != whole[i].name || part[i].type != whole[i].type || part[i].text != whole[i].text) {
      return false;
    }
  }
  return true;
}

TEST(DnsMessage, CutAtEveryOffsetOfARealResponse) {
  auto bytes = FromHex(kCnameChain);
  const DecodeResult whole = Decode(bytes);
  ASSERT_TRUE(whole.complete());
  size_t last_answers = 0;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    auto prefix = std::span(bytes).first(cut);

    // As a complete message, a cut one is malformed.
    DecodeResult as_whole = Decode(prefix);
    EXPECT_FALSE(as_whole.ok());
    EXPECT_EQ(as_whole.error, cut < kHeaderSize ? DecodeError::kShortHeader : DecodeError::kTruncated);

    // As a partial capture of the real message, it is fine, flagged truncated, and a prefix of the whole.
    DecodeResult part = Decode(prefix, bytes.size());
    if (cut < kHeaderSize) {
      EXPECT_EQ(part.error, DecodeError::kShortHeader);
      continue;
    }
    ASSERT_TRUE(part.ok()) << part.error_detail;
    EXPECT_TRUE(part.message.truncated);
    EXPECT_FALSE(part.complete());
    EXPECT_EQ(part.message.header.id, 0xbeef);
    EXPECT_LE(part.offset, cut);
    EXPECT_TRUE(SameRecords(part.message.answers, whole.message.answers));
    EXPECT_TRUE(part.message.additionals.empty());
    EXPECT_GE(part.message.answers.size(), last_answers);  // more bytes never decode less
    last_answers = part.message.answers.size();
  }
  EXPECT_EQ(last_answers, 4u);  // all answers complete before the OPT record is
  DecodeResult full = Decode(bytes, bytes.size());
  EXPECT_TRUE(full.complete());
}

TEST(DnsMessage, PartialCaptureOf512Bytes) {
  // A long answer list whose real length is above 512: the kernel copy holds the first 512 bytes.
  const int n = 60;
  MessageBuilder b(9, 0x8180, 1, n);
  b.Name({"many", "example"}).U16(kTypeA).U16(kClassIN);
  for (int i = 0; i < n; ++i) {
    b.Pointer(12).U16(kTypeA).U16(kClassIN).U32(30).U16(4).Bytes({10, 0, 0, static_cast<uint8_t>(i)});
  }
  ASSERT_GT(b.size(), 512u);
  DecodeResult r = Decode(std::span(b.bytes()).first(512), b.size());
  ASSERT_TRUE(r.ok()) << r.error_detail;
  EXPECT_TRUE(r.message.truncated);
  const size_t fit = (512 - 12 - 18) / 16;
  EXPECT_EQ(r.message.answers.size(), fit);
  EXPECT_EQ(r.message.answers.back().text, "10.0.0." + std::to_string(fit - 1));
  // A wire length smaller than what was captured cannot be: the capture wins.
  EXPECT_TRUE(Decode(b.bytes(), 10).complete());
}

TEST(DnsMessage, ErrorsHaveNamesAndDetails) {
  EXPECT_EQ(DecodeErrorName(DecodeError::kNone), "none");
  EXPECT_EQ(DecodeErrorName(DecodeError::kPointerLoop), "pointer_loop");
  EXPECT_EQ(DecodeErrorName(DecodeError::kBadRdata), "bad_rdata");
}

TEST(DnsMessage, TypeNames) {
  const std::pair<uint16_t, const char*> cases[] = {{1, "A"},       {28, "AAAA"},  {5, "CNAME"},        {15, "MX"},
                                                    {16, "TXT"},    {12, "PTR"},   {2, "NS"},           {6, "SOA"},
                                                    {33, "SRV"},    {65, "HTTPS"}, {64, "SVCB"},        {255, "ANY"},
                                                    {99, "TYPE99"}, {0, "TYPE0"},  {65535, "TYPE65535"}};
  for (const auto& [type, name] : cases) EXPECT_EQ(TypeName(type), name) << type;
}

TEST(DnsMessage, RcodeNames) {
  const std::pair<uint8_t, const char*> cases[] = {{0, "NOERROR"}, {1, "FORMERR"}, {2, "SERVFAIL"}, {3, "NXDOMAIN"},
                                                   {4, "NOTIMP"},  {5, "REFUSED"}, {9, "RCODE9"},   {15, "RCODE15"}};
  for (const auto& [rcode, name] : cases) EXPECT_EQ(RcodeName(rcode), name) << int{rcode};
}

}  // namespace
}  // namespace netmon::dns

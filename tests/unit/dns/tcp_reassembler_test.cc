// SPDX-License-Identifier: Apache-2.0
#include "dns/tcp_reassembler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dns/dns_message.h"
#include "dns_test_util.h"

namespace netmon::dns {
namespace {

using Bytes = std::vector<uint8_t>;
using testing::FromHex;

// DNS(id=0x1234, rd=1, qd=DNSQR(qname="example.com", qtype="A"))
const char kQuery[] = "123401000001000000000000076578616d706c6503636f6d0000010001";
// dns_compress(DNS(id=0x1234, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.com"),
//     an=DNSRR(rrname="example.com", type="A", ttl=300, rdata="93.184.216.34")))
const char kResponse[] = "123481800001000100000000076578616d706c6503636f6d0000010001c00c000100010000012c00045db8d822";

Bytes Framed(const Bytes& message) {
  // Sized once, then filled: inserting into the two-byte vector makes GCC 12 at -O3 report a false
  // -Warray-bounds inside libstdc++'s range insert.
  Bytes out(2 + message.size());
  out[0] = static_cast<uint8_t>(message.size() >> 8);
  out[1] = static_cast<uint8_t>(message.size());
  std::copy(message.begin(), message.end(), out.begin() + 2);
  return out;
}

Bytes Concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::span<const uint8_t> Slice(const Bytes& b, size_t from, size_t to) {
  return std::span(b).subspan(from, to - from);
}

TEST(TcpReassembler, OneMessageInOneSegment) {
  TcpReassembler r;
  Bytes msg = FromHex(kResponse);
  auto out = r.Feed("s", Framed(msg));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], msg);
  EXPECT_TRUE(Decode(out[0]).complete());
  EXPECT_EQ(r.stats().messages, 1u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
}

TEST(TcpReassembler, SplitAtEveryOffset) {
  Bytes msg = FromHex(kResponse);
  Bytes framed = Framed(msg);
  for (size_t cut = 1; cut < framed.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    TcpReassembler r;
    EXPECT_TRUE(r.Feed("s", Slice(framed, 0, cut)).empty());
    EXPECT_EQ(r.buffered_bytes(), cut);
    auto out = r.Feed("s", Slice(framed, cut, framed.size()));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], msg);
    EXPECT_EQ(r.buffered_bytes(), 0u);
  }
}

TEST(TcpReassembler, SplitIntoThreeAtEveryPairOfOffsets) {
  Bytes stream = Concat(Framed(FromHex(kQuery)), Framed(FromHex(kResponse)));
  for (size_t a = 1; a < stream.size(); ++a) {
    for (size_t b = a; b < stream.size(); ++b) {
      TcpReassembler r;
      std::vector<Bytes> got;
      for (auto [from, to] : {std::pair{size_t{0}, a}, std::pair{a, b}, std::pair{b, stream.size()}}) {
        for (auto& m : r.Feed("s", Slice(stream, from, to))) got.push_back(std::move(m));
      }
      ASSERT_EQ(got.size(), 2u) << a << "," << b;
      EXPECT_EQ(got[0], FromHex(kQuery));
      EXPECT_EQ(got[1], FromHex(kResponse));
    }
  }
}

TEST(TcpReassembler, OneByteSegments) {
  Bytes msg = FromHex(kResponse);
  Bytes framed = Framed(msg);
  TcpReassembler r;
  std::vector<Bytes> got;
  for (size_t i = 0; i < framed.size(); ++i) {
    for (auto& m : r.Feed("s", Slice(framed, i, i + 1))) got.push_back(std::move(m));
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], msg);
}

TEST(TcpReassembler, TwoMessagesInOneSegment) {
  TcpReassembler r;
  auto out = r.Feed("s", Concat(Framed(FromHex(kQuery)), Framed(FromHex(kResponse))));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], FromHex(kQuery));
  EXPECT_EQ(out[1], FromHex(kResponse));
  EXPECT_EQ(r.stats().messages, 2u);
}

TEST(TcpReassembler, MessageAndAHalf) {
  Bytes second = Framed(FromHex(kResponse));
  Bytes seg1 = Concat(Framed(FromHex(kQuery)), Bytes(second.begin(), second.begin() + 10));
  TcpReassembler r;
  auto out = r.Feed("s", seg1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], FromHex(kQuery));
  EXPECT_EQ(r.buffered_bytes(), 10u);
  out = r.Feed("s", Slice(second, 10, second.size()));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], FromHex(kResponse));
}

TEST(TcpReassembler, StreamsAreIndependent) {
  Bytes a = Framed(FromHex(kQuery));
  Bytes b = Framed(FromHex(kResponse));
  TcpReassembler r;
  EXPECT_TRUE(r.Feed("a", Slice(a, 0, 5)).empty());
  EXPECT_TRUE(r.Feed("b", Slice(b, 0, 7)).empty());
  EXPECT_EQ(r.stream_count(), 2u);
  auto out_b = r.Feed("b", Slice(b, 7, b.size()));
  auto out_a = r.Feed("a", Slice(a, 5, a.size()));
  ASSERT_EQ(out_a.size(), 1u);
  ASSERT_EQ(out_b.size(), 1u);
  EXPECT_EQ(out_a[0], FromHex(kQuery));
  EXPECT_EQ(out_b[0], FromHex(kResponse));
}

TEST(TcpReassembler, LengthBelowAHeaderResetsTheStream) {
  TcpReassembler r;
  Bytes garbage = {0x00, 0x00, 0xde, 0xad};  // zero-length "message"
  EXPECT_TRUE(r.Feed("s", garbage).empty());
  EXPECT_EQ(r.stats().resets_malformed, 1u);
  EXPECT_EQ(r.stats().bytes_dropped, 4u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  // The next segment starts afresh.
  auto out = r.Feed("s", Framed(FromHex(kQuery)));
  ASSERT_EQ(out.size(), 1u);

  // The same when the bad prefix arrives in two pieces after a buffered byte.
  TcpReassembler split;
  EXPECT_TRUE(split.Feed("s", Bytes{0x00}).empty());
  EXPECT_TRUE(split.Feed("s", Bytes{0x0b, 1, 2, 3}).empty());  // 11 < 12
  EXPECT_EQ(split.stats().resets_malformed, 1u);
  EXPECT_EQ(split.stats().bytes_dropped, 5u);
  EXPECT_EQ(split.buffered_bytes(), 0u);
}

TEST(TcpReassembler, OversizeResetsTheStream) {
  TcpReassembler r({.max_streams = 8, .max_message = 512});
  Bytes seg = {0x02, 0x01};  // 513
  seg.resize(100, 0xaa);
  EXPECT_TRUE(r.Feed("s", seg).empty());
  EXPECT_EQ(r.stats().resets_oversize, 1u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  EXPECT_EQ(r.Feed("s", Framed(FromHex(kQuery))).size(), 1u);
}

TEST(TcpReassembler, MessagesBeforeGarbageInASegmentAreKept) {
  TcpReassembler r;
  Bytes seg = Concat(Framed(FromHex(kQuery)), Bytes{0x00, 0x01, 0xff});
  auto out = r.Feed("s", seg);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(r.stats().resets_malformed, 1u);
  EXPECT_EQ(r.stats().bytes_dropped, 3u);
}

TEST(TcpReassembler, LargestMessageStaysWithinTheBound) {
  Bytes msg(65535, 0);
  msg[5] = 0;  // qdcount etc. are irrelevant here: the reassembler frames, it does not decode
  Bytes framed = Framed(msg);
  TcpReassembler r;
  EXPECT_TRUE(r.Feed("s", Slice(framed, 0, framed.size() - 1)).empty());
  EXPECT_EQ(r.buffered_bytes(), 65535u + 2 - 1);
  auto out = r.Feed("s", Slice(framed, framed.size() - 1, framed.size()));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), 65535u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
}

TEST(TcpReassembler, BoundedStreamsDropTheLeastRecentlyFed) {
  TcpReassembler r({.max_streams = 2, .max_message = 65535});
  Bytes a = Framed(FromHex(kQuery));
  r.Feed("a", Slice(a, 0, 3));
  r.Feed("b", Slice(a, 0, 4));
  r.Feed("a", Slice(a, 3, 5));  // "a" is now the most recently fed
  r.Feed("c", Slice(a, 0, 6));  // evicts "b"
  EXPECT_EQ(r.stream_count(), 2u);
  EXPECT_EQ(r.stats().streams_evicted, 1u);
  EXPECT_EQ(r.stats().bytes_dropped, 4u);
  EXPECT_EQ(r.buffered_bytes(), 5u + 6u);
  // "a" survived and completes.
  EXPECT_EQ(r.Feed("a", Slice(a, 5, a.size())).size(), 1u);
  // "b" starts over: its old prefix is gone, so the rest of its message is read as a new length prefix.
  EXPECT_TRUE(r.Feed("b", Slice(a, 4, a.size())).empty());
}

TEST(TcpReassembler, ResetAndClose) {
  Bytes a = Framed(FromHex(kQuery));
  TcpReassembler r;
  r.Feed("s", Slice(a, 0, 10));
  r.Reset("s");
  EXPECT_EQ(r.buffered_bytes(), 0u);
  EXPECT_EQ(r.stats().bytes_dropped, 10u);
  EXPECT_EQ(r.stream_count(), 1u);
  EXPECT_EQ(r.Feed("s", a).size(), 1u);

  r.Feed("s", Slice(a, 0, 7));
  r.Close("s");
  EXPECT_EQ(r.stream_count(), 0u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  EXPECT_EQ(r.stats().bytes_dropped, 17u);
  r.Close("unknown");
  r.Reset("unknown");
  EXPECT_EQ(r.stream_count(), 0u);
}

TEST(TcpReassembler, EmptyPayloadCreatesNoStream) {
  TcpReassembler r({.max_streams = 1, .max_message = 65535});
  r.Feed("a", Bytes{0x00});
  EXPECT_TRUE(r.Feed("b", Bytes{}).empty());
  EXPECT_EQ(r.stream_count(), 1u);
  EXPECT_EQ(r.stats().streams_evicted, 0u);
}

TEST(TcpReassembler, CallbackSeesMessagesInPlace) {
  TcpReassembler r;
  Bytes seg = Concat(Framed(FromHex(kQuery)), Framed(FromHex(kResponse)));
  std::vector<uint16_t> ids;
  r.Feed("s", seg, [&](std::span<const uint8_t> m) { ids.push_back(Decode(m).message.header.id); });
  EXPECT_EQ(ids, (std::vector<uint16_t>{0x1234, 0x1234}));
}

}  // namespace
}  // namespace netmon::dns

// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the DNS decoder and the DNS-over-TCP reassembler. Besides "no crash, no sanitizer report"
// it checks properties that would expose silent mis-decoding:
//  - names are printable ASCII (they go into JSON and logs);
//  - a capture cut anywhere decodes to a prefix of what the whole message decodes to, without an error;
//  - the reassembler yields the same messages whether a stream arrives in one segment or in many.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "dns/dns_message.h"
#include "dns/dns_tracker.h"
#include "dns/tcp_reassembler.h"

namespace {

using netmon::dns::DecodeResult;
using netmon::dns::Message;
using netmon::dns::ResourceRecord;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckName(const std::string& name) {
  Check(!name.empty());
  for (char c : name) Check(c >= 0x21 && c <= 0x7e);
}

void CheckRecords(const std::vector<ResourceRecord>& records) {
  for (const auto& rr : records) {
    CheckName(rr.name);
    if (rr.kind != netmon::dns::RdataKind::kOpaque) Check(!rr.text.empty());
    if (rr.kind == netmon::dns::RdataKind::kName || rr.kind == netmon::dns::RdataKind::kMx) CheckName(rr.text);
  }
}

void CheckMessage(const DecodeResult& r, size_t size) {
  const Message& m = r.message;
  Check(r.ok() == r.error_detail.empty());
  Check(r.offset <= size || m.truncated);
  Check(m.questions.size() <= m.header.qdcount);
  Check(m.answers.size() <= m.header.ancount);
  for (const auto& q : m.questions) CheckName(q.name);
  CheckRecords(m.answers);
  CheckRecords(m.authorities);
  CheckRecords(m.additionals);
}

bool SameRecord(const ResourceRecord& a, const ResourceRecord& b) {
  return a.name == b.name && a.type == b.type && a.rclass == b.rclass && a.ttl == b.ttl && a.text == b.text;
}

void CheckPrefix(const std::vector<ResourceRecord>& part, const std::vector<ResourceRecord>& whole) {
  Check(part.size() <= whole.size());
  for (size_t i = 0; i < part.size(); ++i) Check(SameRecord(part[i], whole[i]));
}

void FuzzDecoder(std::span<const uint8_t> data) {
  const DecodeResult whole = netmon::dns::Decode(data);
  CheckMessage(whole, data.size());
  Check(!whole.message.truncated);

  // The kernel copies at most 512 bytes; cut where the first byte says to exercise every cut position.
  const size_t cut = data.empty() ? 0 : data[0] % (std::min<size_t>(data.size(), 512) + 1);
  const DecodeResult part = netmon::dns::Decode(data.first(cut), data.size());
  CheckMessage(part, data.size());
  if (whole.ok() && cut >= netmon::dns::kHeaderSize) {
    Check(part.ok());
    Check(part.message.questions.size() <= whole.message.questions.size());
    for (size_t i = 0; i < part.message.questions.size(); ++i) {
      Check(part.message.questions[i].name == whole.message.questions[i].name);
    }
    CheckPrefix(part.message.answers, whole.message.answers);
    CheckPrefix(part.message.authorities, whole.message.authorities);
    CheckPrefix(part.message.additionals, whole.message.additionals);
  }
  (void)netmon::dns::TypeName(whole.message.header.qdcount);
  (void)netmon::dns::RcodeName(whole.message.header.rcode);
}

void FuzzReassembler(std::span<const uint8_t> data) {
  netmon::dns::TcpReassembler once({.max_streams = 2, .max_message = 65535});
  std::vector<std::vector<uint8_t>> expected = once.Feed("s", data);

  // Split the same bytes into segments whose sizes come from the data itself, spread over three streams of
  // which only one matters, so eviction (max 2 streams) and re-creation are exercised too.
  netmon::dns::TcpReassembler split({.max_streams = 2, .max_message = 65535});
  std::vector<std::vector<uint8_t>> got;
  size_t pos = 0;
  size_t round = 0;
  bool evicted = false;
  while (pos < data.size()) {
    size_t len = 1 + data[(pos * 7 + round) % data.size()] % 97;
    len = std::min(len, data.size() - pos);
    const uint64_t before = split.stats().streams_evicted;
    for (auto& m : split.Feed("s", data.subspan(pos, len))) got.push_back(std::move(m));
    if (round % 5 == 4) split.Feed("noise" + std::to_string(round % 3), data.subspan(pos, len));
    evicted |= split.stats().streams_evicted != before;
    pos += len;
    ++round;
  }
  Check(split.buffered_bytes() <= 2 * (65535 + 2));
  for (const auto& m : got) (void)netmon::dns::Decode(m);
  const bool clean = once.stats().resets_malformed + once.stats().resets_oversize == 0 &&
                     split.stats().resets_malformed + split.stats().resets_oversize == 0;
  if (clean && !evicted) Check(got == expected);
}

void FuzzTracker(const DecodeResult& r, std::span<const uint8_t> data) {
  netmon::dns::DnsTracker tracker({.timeout_ns = 1000, .max_pending = 4, .hash_seed = 1});
  uint64_t now = 0;
  for (size_t i = 0; i + 1 < data.size() && i < 64; i += 2) {
    netmon::dns::QueryKey key;
    key.id = data[i] & 7;
    now += data[i + 1];
    if (data[i] & 0x80) {
      (void)tracker.OnResponse(key, now);
    } else {
      tracker.OnQuery(key, now, {r.message.questions.empty() ? "" : r.message.questions[0].name, data[i], 0});
    }
    if (data[i] & 0x40) (void)tracker.Expire(now);
    Check(tracker.pending() <= 4);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  FuzzDecoder(input);
  FuzzReassembler(input);
  FuzzTracker(netmon::dns::Decode(input), input);
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
// Decoder for one raw DNS message (RFC 1035 §4): the bytes after the UDP header, or after the 2-byte TCP length
// prefix. Every byte comes from the network, so the decoder assumes hostile input: every read is bounds-checked,
// name decompression cannot loop, and allocation is bounded by the input size. It never throws for bad input; it
// returns what it could decode plus an error code and a one-line reason.
//
// Partial captures: the kernel copies at most NETMON_DNS_MAX_PAYLOAD bytes of a message, so a caller may hold
// only a prefix of it. Given the message's real length, the decoder keeps every question and record that lies
// wholly inside the prefix and reports `truncated` instead of an error when it runs into the cut.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netmon::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameWireLength = 255;  // RFC 1035 §3.1: length octets + labels + root octet
inline constexpr size_t kMaxLabelLength = 63;
// A real name has at most 127 labels, so no honest encoder needs more jumps than that; the strictly-decreasing
// rule below already rules out loops, this only bounds the work a hostile chain of pointers can cause.
inline constexpr int kMaxPointerJumps = 127;

// RR types and classes the rest of netmon refers to by name.
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNS = 2;
inline constexpr uint16_t kTypeCNAME = 5;
inline constexpr uint16_t kTypeSOA = 6;
inline constexpr uint16_t kTypePTR = 12;
inline constexpr uint16_t kTypeMX = 15;
inline constexpr uint16_t kTypeTXT = 16;
inline constexpr uint16_t kTypeAAAA = 28;
inline constexpr uint16_t kTypeSRV = 33;
inline constexpr uint16_t kTypeOPT = 41;
inline constexpr uint16_t kTypeSVCB = 64;
inline constexpr uint16_t kTypeHTTPS = 65;
inline constexpr uint16_t kTypeANY = 255;
inline constexpr uint16_t kClassIN = 1;

enum class Rcode : uint8_t { kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kNotImp = 4, kRefused = 5 };

// Why decoding stopped early. kNone also covers a partial capture that was decoded up to its cut (see truncated).
enum class DecodeError : uint8_t {
  kNone = 0,
  kShortHeader,     // fewer than 12 bytes: not even a header
  kTruncated,       // the message ends (at its real length) inside a name, a record or its rdata: lying counts
  kNameTooLong,     // decoded name exceeds 255 octets in wire form
  kBadLabel,        // label length octet 0x40-0xbf: longer than 63 or a reserved/obsolete extended label type
  kBadPointer,      // compression pointer outside the message, or into the 12-byte header
  kForwardPointer,  // compression pointer at or after its own position
  kPointerLoop,     // pointer chain revisits a position (or needs more than kMaxPointerJumps jumps)
  kBadRdata,        // rdata inconsistent with its type: A not 4 bytes, AAAA not 16, a name overrunning rdlength
};

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;  // the raw flags word; the fields below are decoded from it
  bool qr = false;     // true: response
  uint8_t opcode = 0;
  bool aa = false;
  bool tc = false;  // the *server* truncated the message (retry over TCP); unrelated to a partial capture
  bool rd = false;
  bool ra = false;
  bool ad = false;
  bool cd = false;
  uint8_t rcode = 0;  // header rcode only; EDNS extended rcode bits are in the OPT record
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;
};

struct Question {
  std::string name;  // see "Names" below
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

// How far the rdata of a record was decoded.
enum class RdataKind : uint8_t {
  kOpaque = 0,  // left as type + rdlength
  kAddress,     // A / AAAA: address and text
  kName,        // CNAME / PTR / NS: target name in text
  kMx,          // MX: preference and exchange name in text
};

struct ResourceRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;
  uint16_t rdlength = 0;
  RdataKind kind = RdataKind::kOpaque;
  // A: "192.0.2.1"; AAAA: "2001:db8::1"; CNAME/PTR/NS: target name; MX: exchange name; otherwise empty.
  std::string text;
  std::array<uint8_t, 16> addr{};  // A: first 4 bytes; AAAA: all 16
  uint8_t addr_len = 0;            // 4, 16 or 0
  uint16_t mx_preference = 0;
};

// Names: dotted, without the trailing dot, letter case as on the wire; the root name is ".". Bytes that would make
// the text ambiguous or unprintable are escaped as in zone files (RFC 4343 §2.1): '.' and '\\' inside a label as
// "\." and "\\", bytes outside 0x21-0x7e as "\DDD" (three decimal digits). Decoded names are therefore always
// printable ASCII, safe to put into JSON and logs.
struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<ResourceRecord> answers;
  std::vector<ResourceRecord> authorities;
  std::vector<ResourceRecord> additionals;
  // The capture ended before the message did: sections (or their tails) past the cut are missing.
  bool truncated = false;
  // Bytes after the last record the header announced (allowed, but worth noticing).
  size_t trailing_bytes = 0;
};

struct DecodeResult {
  Message message;  // everything decoded before the error (or the cut), always usable
  DecodeError error = DecodeError::kNone;
  std::string error_detail;  // one line for logs: where and why, empty when error == kNone
  // Offset of the first byte not consumed (where decoding stopped on error/truncation).
  size_t offset = 0;

  bool ok() const { return error == DecodeError::kNone; }
  // Decoded without error and nothing was cut off by the capture.
  bool complete() const { return ok() && !message.truncated; }
};

// Decodes a whole message: `data` is all of it.
DecodeResult Decode(std::span<const uint8_t> data);
// Decodes a possibly partial capture: `captured` holds the first bytes of a message whose real length is
// `wire_length` (values smaller than captured.size() are treated as captured.size(): the capture cannot be longer
// than the message, and the bytes are what we must not read past).
DecodeResult Decode(std::span<const uint8_t> captured, size_t wire_length);

std::string_view DecodeErrorName(DecodeError error);
// "A", "AAAA", "CNAME", "MX", "TXT", "PTR", "NS", "SOA", "SRV", "HTTPS", "SVCB", "ANY", else "TYPE<n>" (RFC 3597).
std::string TypeName(uint16_t type);
// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", else "RCODE<n>".
std::string RcodeName(uint8_t rcode);

}  // namespace netmon::dns

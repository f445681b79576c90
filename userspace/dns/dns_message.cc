// SPDX-License-Identifier: Apache-2.0
#include "dns/dns_message.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

namespace netmon::dns {
namespace {

// Outcome of one decoding step. kCut: the step needs bytes the capture does not hold but the message does, so the
// message is fine as far as we can tell and decoding just stops there.
enum class Step { kOk, kCut, kError };

constexpr size_t kMinQuestionSize = 1 + 4;  // root name, qtype, qclass
constexpr size_t kMinRecordSize = 1 + 10;   // root name, type, class, ttl, rdlength
constexpr uint8_t kPointerMask = 0xc0;

class Decoder {
 public:
  Decoder(std::span<const uint8_t> captured, size_t wire_length)
      : data_(captured), wire_length_(std::max(wire_length, captured.size())) {}

  DecodeResult Run() {
    if (data_.size() < kHeaderSize) {
      if (wire_length_ >= kHeaderSize) {
        return Fail(DecodeError::kShortHeader, "capture holds " + std::to_string(data_.size()) + " bytes of a " +
                                                   std::to_string(wire_length_) + "-byte message: header incomplete");
      }
      return Fail(DecodeError::kShortHeader,
                  "message is " + std::to_string(wire_length_) + " bytes, a DNS header needs 12");
    }
    DecodeHeader();
    Message& m = result_.message;
    pos_ = kHeaderSize;

    m.questions.reserve(ReserveFor(m.header.qdcount, kMinQuestionSize));
    for (int i = 0; i < m.header.qdcount; ++i) {
      Question q;
      Step s = DecodeQuestion(&q);
      if (s != Step::kOk) return Stop(s, "question " + std::to_string(i + 1));
      m.questions.push_back(std::move(q));
    }
    const struct {
      std::vector<ResourceRecord>* out;
      uint16_t count;
      const char* what;
    } sections[] = {{&m.answers, m.header.ancount, "answer "},
                    {&m.authorities, m.header.nscount, "authority "},
                    {&m.additionals, m.header.arcount, "additional "}};
    for (const auto& section : sections) {
      section.out->reserve(ReserveFor(section.count, kMinRecordSize));
      for (int i = 0; i < section.count; ++i) {
        ResourceRecord rr;
        Step s = DecodeRecord(&rr);
        if (s != Step::kOk) return Stop(s, section.what + std::to_string(i + 1));
        section.out->push_back(std::move(rr));
      }
    }
    m.trailing_bytes = wire_length_ - pos_;
    result_.offset = pos_;
    return std::move(result_);
  }

 private:
  // Hostile counts must not make us allocate for records that cannot fit into the bytes we hold.
  size_t ReserveFor(uint16_t count, size_t min_size) const {
    size_t left = data_.size() > pos_ ? data_.size() - pos_ : 0;
    return std::min<size_t>(count, left / min_size);
  }

  uint8_t U8(size_t at) const { return data_[at]; }
  uint16_t U16(size_t at) const { return static_cast<uint16_t>(data_[at] << 8 | data_[at + 1]); }
  uint32_t U32(size_t at) const {
    return static_cast<uint32_t>(data_[at]) << 24 | static_cast<uint32_t>(data_[at + 1]) << 16 |
           static_cast<uint32_t>(data_[at + 2]) << 8 | static_cast<uint32_t>(data_[at + 3]);
  }

  // Can [at, at+n) be read? Past the real end is an error; inside the message but past the capture is a cut.
  Step Need(size_t at, size_t n, const char* what) {
    if (at <= wire_length_ && n <= wire_length_ - at) {
      if (at <= data_.size() && n <= data_.size() - at) return Step::kOk;
      return Step::kCut;
    }
    return Error(DecodeError::kTruncated, std::string(what) + " at offset " + std::to_string(at) + " needs " +
                                              std::to_string(n) + " bytes, message ends at " +
                                              std::to_string(wire_length_));
  }

  Step Error(DecodeError error, std::string detail) {
    result_.error = error;
    result_.error_detail = std::move(detail);
    return Step::kError;
  }

  DecodeResult Fail(DecodeError error, std::string detail) {
    result_.error = error;
    result_.error_detail = std::move(detail);
    result_.offset = 0;
    return std::move(result_);
  }

  DecodeResult Stop(Step s, const std::string& where) {
    if (s == Step::kCut) {
      result_.message.truncated = true;
    } else {
      result_.error_detail = where + ": " + result_.error_detail;
    }
    result_.offset = pos_;
    return std::move(result_);
  }

  void DecodeHeader() {
    Header& h = result_.message.header;
    h.id = U16(0);
    h.flags = U16(2);
    h.qr = (h.flags >> 15) & 1;
    h.opcode = (h.flags >> 11) & 0xf;
    h.aa = (h.flags >> 10) & 1;
    h.tc = (h.flags >> 9) & 1;
    h.rd = (h.flags >> 8) & 1;
    h.ra = (h.flags >> 7) & 1;
    h.ad = (h.flags >> 5) & 1;
    h.cd = (h.flags >> 4) & 1;
    h.rcode = h.flags & 0xf;
    h.qdcount = U16(4);
    h.ancount = U16(6);
    h.nscount = U16(8);
    h.arcount = U16(10);
  }

  static void AppendLabel(std::string* out, std::span<const uint8_t> label) {
    static constexpr char kDigits[] = "0123456789";
    for (uint8_t c : label) {
      if (c == '.' || c == '\\') {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c < 0x21 || c > 0x7e) {
        out->push_back('\\');
        out->push_back(kDigits[c / 100]);
        out->push_back(kDigits[c / 10 % 10]);
        out->push_back(kDigits[c % 10]);
      } else {
        out->push_back(static_cast<char>(c));
      }
    }
  }

  // Reads a (possibly compressed) name starting at *at. On success *at is just past the name's bytes at its
  // original position (the first pointer, or the root octet). Bytes read before the first jump must lie below
  // `inline_limit` (the end of an rdata field), which is kBadRdata otherwise.
  Step DecodeName(size_t* at, size_t inline_limit, std::string* out) {
    out->clear();
    size_t p = *at;
    size_t resume = 0;  // where the caller continues, set at the first jump
    bool jumped = false;
    size_t lowest_target = 0;  // every jump must land strictly below the previous one: no position twice
    int jumps = 0;
    size_t wire_len = 1;  // the root octet
    for (;;) {
      if (!jumped && p >= inline_limit) {
        return Error(DecodeError::kBadRdata, "name at offset " + std::to_string(*at) + " overruns its rdata");
      }
      Step s = Need(p, 1, "name label");
      if (s != Step::kOk) return s;
      uint8_t len = U8(p);
      if ((len & kPointerMask) == kPointerMask) {
        if (!jumped && inline_limit - p < 2) {
          return Error(DecodeError::kBadRdata,
                       "compression pointer at offset " + std::to_string(p) + " overruns its rdata");
        }
        s = Need(p, 2, "compression pointer");
        if (s != Step::kOk) return s;
        size_t target = U16(p) & 0x3fff;
        std::string here = "compression pointer at offset " + std::to_string(p) + " to " + std::to_string(target);
        if (target >= wire_length_) return Error(DecodeError::kBadPointer, here + " points past the message end");
        if (target < kHeaderSize) return Error(DecodeError::kBadPointer, here + " points into the header");
        if (target >= p) return Error(DecodeError::kForwardPointer, here + " does not point backwards");
        if (jumped && target >= lowest_target) return Error(DecodeError::kPointerLoop, here + " loops");
        if (++jumps > kMaxPointerJumps) {
          return Error(DecodeError::kPointerLoop,
                       here + ": more than " + std::to_string(kMaxPointerJumps) + " jumps in one name");
        }
        if (!jumped) resume = p + 2;
        jumped = true;
        lowest_target = target;
        p = target;
        continue;
      }
      if (len > kMaxLabelLength) {
        return Error(DecodeError::kBadLabel, "label length octet 0x" + Hex(len) + " at offset " + std::to_string(p) +
                                                 ": longer than 63 or a reserved label type");
      }
      if (len == 0) {
        if (out->empty()) out->push_back('.');
        *at = jumped ? resume : p + 1;
        return Step::kOk;
      }
      wire_len += 1 + len;
      if (wire_len > kMaxNameWireLength) {
        return Error(DecodeError::kNameTooLong, "name at offset " + std::to_string(*at) + " exceeds " +
                                                    std::to_string(kMaxNameWireLength) + " octets");
      }
      if (!jumped && inline_limit - p < 1u + len) {
        return Error(DecodeError::kBadRdata, "label at offset " + std::to_string(p) + " overruns its rdata");
      }
      s = Need(p + 1, len, "label");
      if (s != Step::kOk) return s;
      if (!out->empty()) out->push_back('.');
      AppendLabel(out, data_.subspan(p + 1, len));
      p += 1 + len;
    }
  }

  static std::string Hex(uint8_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    return {kHex[v >> 4], kHex[v & 0xf]};
  }

  Step DecodeQuestion(Question* q) {
    size_t p = pos_;
    Step s = DecodeName(&p, SIZE_MAX, &q->name);
    if (s != Step::kOk) return s;
    s = Need(p, 4, "question type and class");
    if (s != Step::kOk) return s;
    q->qtype = U16(p);
    q->qclass = U16(p + 2);
    pos_ = p + 4;
    return Step::kOk;
  }

  Step DecodeRecord(ResourceRecord* rr) {
    size_t p = pos_;
    Step s = DecodeName(&p, SIZE_MAX, &rr->name);
    if (s != Step::kOk) return s;
    s = Need(p, 10, "record header");
    if (s != Step::kOk) return s;
    rr->type = U16(p);
    rr->rclass = U16(p + 2);
    rr->ttl = U32(p + 4);
    rr->rdlength = U16(p + 8);
    p += 10;
    s = Need(p, rr->rdlength, "rdata");
    if (s != Step::kOk) return s;
    s = DecodeRdata(rr, p);
    if (s != Step::kOk) return s;
    pos_ = p + rr->rdlength;
    return Step::kOk;
  }

  Step DecodeRdata(ResourceRecord* rr, size_t p) {
    const size_t end = p + rr->rdlength;
    const std::string where = TypeName(rr->type) + " rdata at offset " + std::to_string(p);
    switch (rr->type) {
      case kTypeA:
      case kTypeAAAA: {
        // Other classes (CHAOS ...) define their own address formats: leave those opaque.
        if (rr->rclass != kClassIN) return Step::kOk;
        const size_t want = rr->type == kTypeA ? 4 : 16;
        if (rr->rdlength != want) {
          return Error(DecodeError::kBadRdata,
                       where + " has length " + std::to_string(rr->rdlength) + ", expected " + std::to_string(want));
        }
        std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(p), want, rr->addr.begin());
        rr->addr_len = static_cast<uint8_t>(want);
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(want == 4 ? AF_INET : AF_INET6, rr->addr.data(), text, sizeof(text));
        rr->text = text;
        rr->kind = RdataKind::kAddress;
        return Step::kOk;
      }
      case kTypeCNAME:
      case kTypePTR:
      case kTypeNS:
      case kTypeMX: {
        size_t q = p;
        if (rr->type == kTypeMX) {
          if (rr->rdlength < 2) return Error(DecodeError::kBadRdata, where + " is too short for a preference");
          rr->mx_preference = U16(p);
          q += 2;
        }
        Step s = DecodeName(&q, end, &rr->text);
        if (s != Step::kOk) return s;
        if (q != end) {
          return Error(DecodeError::kBadRdata,
                       where + ": " + std::to_string(end - q) + " bytes after the name inside rdata");
        }
        rr->kind = rr->type == kTypeMX ? RdataKind::kMx : RdataKind::kName;
        return Step::kOk;
      }
      default: return Step::kOk;
    }
  }

  std::span<const uint8_t> data_;
  size_t wire_length_;
  size_t pos_ = 0;
  DecodeResult result_;
};

}  // namespace

DecodeResult Decode(std::span<const uint8_t> data) {
  return Decoder(data, data.size()).Run();
}

DecodeResult Decode(std::span<const uint8_t> captured, size_t wire_length) {
  return Decoder(captured, wire_length).Run();
}

std::string_view DecodeErrorName(DecodeError error) {
  switch (error) {
    case DecodeError::kNone: return "none";
    case DecodeError::kShortHeader: return "short_header";
    case DecodeError::kTruncated: return "truncated";
    case DecodeError::kNameTooLong: return "name_too_long";
    case DecodeError::kBadLabel: return "bad_label";
    case DecodeError::kBadPointer: return "bad_pointer";
    case DecodeError::kForwardPointer: return "forward_pointer";
    case DecodeError::kPointerLoop: return "pointer_loop";
    case DecodeError::kBadRdata: return "bad_rdata";
  }
  return "unknown";
}

std::string TypeName(uint16_t type) {
  switch (type) {
    case kTypeA: return "A";
    case kTypeAAAA: return "AAAA";
    case kTypeCNAME: return "CNAME";
    case kTypeMX: return "MX";
    case kTypeTXT: return "TXT";
    case kTypePTR: return "PTR";
    case kTypeNS: return "NS";
    case kTypeSOA: return "SOA";
    case kTypeSRV: return "SRV";
    case kTypeHTTPS: return "HTTPS";
    case kTypeSVCB: return "SVCB";
    case kTypeANY: return "ANY";
    default: return "TYPE" + std::to_string(type);
  }
}

std::string RcodeName(uint8_t rcode) {
  switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    default: return "RCODE" + std::to_string(rcode);
  }
}

}  // namespace netmon::dns

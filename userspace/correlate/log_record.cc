// SPDX-License-Identifier: Apache-2.0
#include "correlate/log_record.h"

#include <algorithm>
#include <functional>

#include "correlate/ip.h"

namespace netmon::correlate {
namespace {

// Linux comm is at most 15 bytes (TASK_COMM_LEN 16 with the NUL), and process_name is the comm: longer names
// (a syslog APP-NAME of "systemd-resolved") are compared by their first 15 bytes, as the kernel truncates them.
constexpr size_t kCommLen = 15;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsAddrChar(char c) {
  return IsHex(c) || c == ':' || c == '.';
}
bool IsWordChar(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '.' || c == '/';
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsPortKey(std::string_view k) {
  static constexpr std::string_view kKeys[] = {"port",
                                               "sport",
                                               "dport",
                                               "spt",
                                               "dpt",
                                               "srcport",
                                               "dstport",
                                               "src_port",
                                               "dst_port",
                                               "src-port",
                                               "dst-port",
                                               "source_port",
                                               "destination_port",
                                               "dest_port",
                                               "local_port",
                                               "remote_port",
                                               "lport",
                                               "rport",
                                               "source.port",
                                               "destination.port",
                                               "client.port",
                                               "server.port",
                                               "net.peer.port",
                                               "net.host.port",
                                               "network.peer.port",
                                               "network.local.port"};
  return std::find(std::begin(kKeys), std::end(kKeys), k) != std::end(kKeys);
}

bool IsPidKey(std::string_view k) {
  static constexpr std::string_view kKeys[] = {"pid",         "_pid",   "process_id", "processid",
                                               "process.pid", "procid", "_procid",    "_process_id"};
  return std::find(std::begin(kKeys), std::end(kKeys), k) != std::end(kKeys);
}

bool IsNameKey(std::string_view k) {
  static constexpr std::string_view kKeys[] = {"comm",
                                               "process",
                                               "process_name",
                                               "_process_name",
                                               "process.executable.name",
                                               "process.command",
                                               "program",
                                               "_program",
                                               "appname",
                                               "app_name",
                                               "_appname",
                                               "_app_name",
                                               "application",
                                               "_application_name"};
  return std::find(std::begin(kKeys), std::end(kKeys), k) != std::end(kKeys);
}

bool ValidPort(std::string_view digits) {
  if (digits.empty() || digits.size() > 5 || !AllDigits(digits)) return false;
  return std::stoul(std::string(digits)) <= 65535;
}

class TokenSink {
 public:
  TokenSink(const TokenLimits& limits, std::vector<LogToken>* out) : limits_(limits), out_(out) {
    for (const auto& t : *out) {
      if (t.kind == TokenKind::kName) ++names_;
    }
  }
  bool full() const { return out_->size() >= limits_.max_tokens; }
  void Add(TokenKind kind, std::string value) {
    if (full() || value.empty()) return;
    if (kind == TokenKind::kName) {
      if (value.size() > kCommLen) value.resize(kCommLen);
      if (names_ >= limits_.max_name_tokens) return;
    }
    LogToken t{kind, std::move(value)};
    if (std::find(out_->begin(), out_->end(), t) != out_->end()) return;
    if (kind == TokenKind::kName) ++names_;
    out_->push_back(std::move(t));
  }
  void AddEndpoint(const Endpoint& ep) {
    Add(TokenKind::kAddress, ep.ip.ToString());
    Add(TokenKind::kEndpoint, ep.ToString());
    Add(TokenKind::kPort, std::to_string(ep.port));
  }

 private:
  const TokenLimits& limits_;
  std::vector<LogToken>* out_;
  size_t names_ = 0;
};

// Addresses and endpoints: maximal runs of [0-9A-Fa-f:.].
void ScanAddresses(std::string_view s, TokenSink* sink) {
  size_t i = 0;
  while (i < s.size() && !sink->full()) {
    if (!IsAddrChar(s[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < s.size() && IsAddrChar(s[i])) ++i;
    std::string_view run = s.substr(start, i - start);
    // Sentence punctuation is not part of an address: "from 10.0.0.1." / "peer 10.0.0.1:".
    while (!run.empty() && (run.back() == '.' || (run.back() == ':' && run.size() > 1 && run[run.size() - 2] != ':'))) {
      run.remove_suffix(1);
    }
    if (run.size() < 3 || run.size() > 64) continue;
    size_t colons = static_cast<size_t>(std::count(run.begin(), run.end(), ':'));
    size_t dots = static_cast<size_t>(std::count(run.begin(), run.end(), '.'));
    if (colons >= 2) {
      // "[v6]:port"
      bool bracketed =
          start > 0 && s[start - 1] == '[' && start + run.size() < s.size() && s[start + run.size()] == ']';
      if (auto ip = ParseIp(run); ip && !ip->IsV4()) {
        sink->Add(TokenKind::kAddress, ip->ToString());
        size_t after = start + run.size() + 1;  // past ']'
        if (bracketed && after < s.size() && s[after] == ':') {
          size_t p = after + 1, q = p;
          while (q < s.size() && IsDigit(s[q]) && q - p < 6) ++q;
          std::string_view port = s.substr(p, q - p);
          if (ValidPort(port)) sink->AddEndpoint(Endpoint{*ip, static_cast<uint16_t>(std::stoul(std::string(port)))});
        }
      } else if (auto ip4 = ParseIp(run); ip4 && ip4->IsV4()) {
        sink->Add(TokenKind::kAddress, ip4->ToString());  // ::ffff:a.b.c.d
      }
      continue;
    }
    if (colons == 1 && dots == 3) {
      // "a.b.c.d:port"
      size_t c = run.find(':');
      auto ip = ParseIp(run.substr(0, c));
      std::string_view port = run.substr(c + 1);
      if (ip && ip->IsV4()) {
        if (ValidPort(port)) {
          sink->AddEndpoint(Endpoint{*ip, static_cast<uint16_t>(std::stoul(std::string(port)))});
        } else {
          sink->Add(TokenKind::kAddress, ip->ToString());
        }
      }
      continue;
    }
    if (colons == 0 && dots == 3) {
      if (auto ip = ParseIp(run); ip && ip->IsV4()) sink->Add(TokenKind::kAddress, ip->ToString());
      continue;
    }
    if (colons == 0 && dots == 4) {
      // tcpdump writes endpoints as "a.b.c.d.port".
      size_t d = run.rfind('.');
      auto ip = ParseIp(run.substr(0, d));
      std::string_view port = run.substr(d + 1);
      if (ip && ip->IsV4() && ValidPort(port)) {
        sink->AddEndpoint(Endpoint{*ip, static_cast<uint16_t>(std::stoul(std::string(port)))});
      }
    }
  }
}

// The digits that follow a key after at most a few separators: "port 22", "dpt=443", "pid: 812", "pid=\"812\"".
std::string_view ValueAfter(std::string_view s, size_t pos) {
  size_t skipped = 0;
  while (pos < s.size() && skipped < 3 &&
         (s[pos] == ' ' || s[pos] == '=' || s[pos] == ':' || s[pos] == '"' || s[pos] == '\'')) {
    ++pos;
    ++skipped;
  }
  size_t start = pos;
  while (pos < s.size() && IsDigit(s[pos]) && pos - start < 11) ++pos;
  // "port 22a" is not a port.
  if (pos < s.size() && (IsAlpha(s[pos]) || s[pos] == '_')) return {};
  return s.substr(start, pos - start);
}

void ScanWords(std::string_view s, TokenSink* sink) {
  size_t i = 0;
  while (i < s.size() && !sink->full()) {
    if (!IsWordChar(s[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < s.size() && IsWordChar(s[i])) ++i;
    std::string_view word = s.substr(start, i - start);
    std::string lw = Lower(word);
    if (IsPortKey(lw)) {
      std::string_view v = ValueAfter(s, i);
      if (ValidPort(v)) sink->Add(TokenKind::kPort, std::to_string(std::stoul(std::string(v))));
      continue;
    }
    if (IsPidKey(lw)) {
      std::string_view v = ValueAfter(s, i);
      if (!v.empty() && v.size() <= 10) sink->Add(TokenKind::kPid, std::to_string(std::stoull(std::string(v))));
      continue;
    }
    // "sshd[812]": the program and its PID.
    if (i < s.size() && s[i] == '[') {
      size_t p = i + 1, q = p;
      while (q < s.size() && IsDigit(s[q]) && q - p < 11) ++q;
      if (q > p && q < s.size() && s[q] == ']' && q - p <= 10) {
        sink->Add(TokenKind::kPid, std::to_string(std::stoull(std::string(s.substr(p, q - p)))));
      }
    }
    // A process name has a letter in it; "10.0.0.5" and "2001" would only spend the name budget.
    if (word.size() >= 2 && std::any_of(word.begin(), word.end(), IsAlpha))
      sink->Add(TokenKind::kName, std::string(word));
  }
}

}  // namespace

std::string_view LogFormatName(LogFormat f) {
  switch (f) {
    case LogFormat::kRfc3164: return "rfc3164";
    case LogFormat::kRfc5424: return "rfc5424";
    case LogFormat::kGelf: return "gelf";
    case LogFormat::kOtel: return "otel";
  }
  return "unknown";
}

void ExtractTextTokens(std::string_view text, const TokenLimits& limits, std::vector<LogToken>* out) {
  if (text.size() > limits.max_scan_bytes) text = text.substr(0, limits.max_scan_bytes);
  TokenSink sink(limits, out);
  ScanAddresses(text, &sink);
  ScanWords(text, &sink);
}

std::vector<LogToken> ExtractTokens(const LogRecord& rec, const TokenLimits& limits) {
  std::vector<LogToken> out;
  {
    TokenSink sink(limits, &out);
    if (!rec.app.empty()) sink.Add(TokenKind::kName, rec.app);
    if (AllDigits(rec.procid) && rec.procid.size() <= 10) {
      sink.Add(TokenKind::kPid, std::to_string(std::stoull(rec.procid)));
    }
    if (auto ip = ParseIp(rec.host)) sink.Add(TokenKind::kAddress, ip->ToString());
    for (const auto& [key, value] : rec.attributes) {
      std::string lk = Lower(key);
      bool digits = AllDigits(value) && value.size() <= 10;
      if (digits && (IsPidKey(lk) || lk.ends_with(".pid") || lk.ends_with("_pid"))) {
        sink.Add(TokenKind::kPid, std::to_string(std::stoull(value)));
      } else if (digits && (IsPortKey(lk) || lk.ends_with(".port") || lk.ends_with("_port")) && ValidPort(value)) {
        sink.Add(TokenKind::kPort, std::to_string(std::stoul(value)));
      } else if (IsNameKey(lk) && !value.empty()) {
        // A path names the program by its last component ("/usr/bin/curl" -> curl).
        std::string_view v = value;
        if (auto slash = v.rfind('/'); slash != std::string_view::npos) v = v.substr(slash + 1);
        sink.Add(TokenKind::kName, std::string(v));
      }
    }
  }
  ExtractTextTokens(rec.message, limits, &out);
  for (const auto& [key, value] : rec.attributes) {
    if (out.size() >= limits.max_tokens) break;
    // Addresses inside attribute values ("src": "10.0.0.5:51234"); no words, they would swamp the name budget.
    std::string_view v = value;
    if (v.size() > limits.max_scan_bytes) v = v.substr(0, limits.max_scan_bytes);
    TokenSink sink(limits, &out);
    ScanAddresses(v, &sink);
  }
  return out;
}

uint64_t TokenHash(TokenKind kind, std::string_view value) {
  uint64_t h = std::hash<std::string_view>()(value);
  return h ^ ((static_cast<uint64_t>(kind) + 1) * 0x9e3779b97f4a7c15ULL);
}

}  // namespace netmon::correlate

// SPDX-License-Identifier: Apache-2.0
#include "cli/format.h"

#include <time.h>

#include <array>
#include <cstdio>
#include <utility>

#include "agent/event_json.h"
#include "common/str_cat.h"
#include "nlohmann/json.hpp"

namespace netmon::cli {
namespace {

using nlohmann::json;

constexpr size_t kMaxFallbackDetails = 60;

// Table cells end up on a terminal: control bytes in a hostile process name must not become escape sequences.
std::string Printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

std::string Latency(uint64_t us) {
  if (us < 1000) return StrCat(us, " us");
  std::array<char, 32> buf{};
  (void)snprintf(buf.data(), buf.size(), "%.1f ms", static_cast<double>(us) / 1000.0);
  return buf.data();
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number() || it->is_boolean()) return it->dump();
  return "";
}

bool Has(const json& j, const char* key) {
  return j.contains(key) && !j[key].is_null();
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out.append(sep);
    out.append(p);
  }
  return out;
}

struct Column {
  const char* name;
  size_t width;
  bool right;
};

class TablePrinter final : public EventPrinter {
 public:
  TablePrinter(std::ostream* out, PrinterOptions options) : out_(out), options_(options) {}

  using Cells = std::array<std::string, 9>;

  void Print(const network_monitor::NetworkEvent& ev) override {
    Cells cells = {ClockTime(ev.timestamp_ns(), options_.utc),
                   std::to_string(ev.process_id()),
                   ev.process_name().empty() ? "-" : ev.process_name(),
                   ev.event_type(),
                   ev.source_addr(),
                   ev.dest_addr(),
                   HumanBytes(ev.bytes_sent()),
                   HumanBytes(ev.bytes_received()),
                   EventDetails(ev)};
    for (std::string& c : cells) c = Printable(c);
    ++rows_;
    if (options_.buffered) {
      Widen(cells);
      held_.push_back(std::move(cells));
      return;
    }
    if (rows_ == 1) Row(Header());
    Widen(cells);
    Row(cells);
  }

  void Finish() override {
    if (rows_ == 0) {
      *out_ << "(no events)\n";
    } else if (options_.buffered) {
      Row(Header());
      for (const Cells& c : held_) Row(c);
      held_.clear();
    }
    out_->flush();
  }

 private:
  Cells Header() const {
    Cells h;
    for (size_t i = 0; i < columns_.size(); ++i) h[i] = columns_[i].name;
    return h;
  }

  // Columns only grow (a long IPv6 address), so rows after a wide one stay aligned with each other.
  void Widen(const Cells& cells) {
    for (size_t i = 0; i + 1 < cells.size(); ++i)
      columns_[i].width = std::max(columns_[i].width, DisplayWidth(cells[i]));
  }

  void Row(const Cells& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string& cell = cells[i];
      const Column& c = columns_[i];
      size_t pad = c.width > DisplayWidth(cell) ? c.width - DisplayWidth(cell) : 0;
      if (i > 0) line.append("  ");
      if (i + 1 == cells.size()) {
        line.append(cell);
      } else if (c.right) {
        line.append(pad, ' ').append(cell);
      } else {
        line.append(cell).append(pad, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    *out_ << line << '\n';
  }

  std::ostream* out_;
  const PrinterOptions options_;
  std::array<Column, 9> columns_ = {{{"TIME", 12, false},
                                     {"PID", 7, true},
                                     {"PROCESS", 15, false},
                                     {"EVENT", 12, false},
                                     {"SOURCE", 21, false},
                                     {"DESTINATION", 21, false},
                                     {"SENT", 9, true},
                                     {"RECV", 9, true},
                                     {"DETAILS", 0, false}}};
  size_t rows_ = 0;
  std::vector<Cells> held_;  // buffered rows
};

class JsonPrinter final : public EventPrinter {
 public:
  explicit JsonPrinter(std::ostream* out) : out_(out) {}
  void Print(const network_monitor::NetworkEvent& ev) override {
    line_.clear();
    agent::AppendEventJson(&line_, ev);
    line_.push_back('\n');
    *out_ << line_;
  }
  void Finish() override { out_->flush(); }

 private:
  std::ostream* out_;
  std::string line_;
};

class CsvPrinter final : public EventPrinter {
 public:
  explicit CsvPrinter(std::ostream* out) : out_(out) {
    *out_ << "sequence,timestamp_ns,time,process_id,process_name,source_addr,dest_addr,bytes_sent,bytes_received,"
             "event_type,extra_info\r\n";
  }
  void Print(const network_monitor::NetworkEvent& ev) override {
    *out_ << ev.sequence() << ',' << ev.timestamp_ns() << ',' << IsoTime(ev.timestamp_ns()) << ',' << ev.process_id()
          << ',' << CsvField(ev.process_name()) << ',' << CsvField(ev.source_addr()) << ',' << CsvField(ev.dest_addr())
          << ',' << ev.bytes_sent() << ',' << ev.bytes_received() << ',' << CsvField(ev.event_type()) << ','
          << CsvField(ev.extra_info()) << "\r\n";
  }
  void Finish() override { out_->flush(); }

 private:
  std::ostream* out_;
};

std::string FilterText(const SessionInfo& s) {
  std::vector<std::string> parts;
  if (s.process_id != 0) parts.push_back(StrCat("pid=", s.process_id));
  if (s.port != 0) parts.push_back(StrCat("port=", s.port));
  if (!s.source_ip.empty()) parts.push_back(StrCat("src=", s.source_ip));
  if (!s.destination_ip.empty()) parts.push_back(StrCat("dst=", s.destination_ip));
  return parts.empty() ? "any" : Join(parts, " ");
}

}  // namespace

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool ParseFormat(const std::string& text, Format* out) {
  if (text == "table") {
    *out = Format::kTable;
  } else if (text == "json") {
    *out = Format::kJson;
  } else if (text == "csv") {
    *out = Format::kCsv;
  } else {
    return false;
  }
  return true;
}

std::string HumanBytes(int64_t bytes) {
  static constexpr std::array<const char*, 6> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  // The magnitude as unsigned, so INT64_MIN does not overflow.
  uint64_t mag = bytes < 0 ? 0 - static_cast<uint64_t>(bytes) : static_cast<uint64_t>(bytes);
  const char* sign = bytes < 0 ? "-" : "";
  if (mag < 1024) return StrCat(sign, mag, " B");
  double v = static_cast<double>(mag) / 1024.0;
  size_t u = 0;
  while (v >= 1023.95 && u + 1 < kUnits.size()) {
    v /= 1024.0;
    ++u;
  }
  std::array<char, 32> buf{};
  (void)snprintf(buf.data(), buf.size(), "%s%.1f %s", sign, v, kUnits[u]);
  return buf.data();
}

std::string ClockTime(int64_t timestamp_ns, bool utc) {
  time_t secs = static_cast<time_t>(timestamp_ns / 1'000'000'000);
  int64_t ms = (timestamp_ns % 1'000'000'000) / 1'000'000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  tm t{};
  if ((utc ? gmtime_r(&secs, &t) : localtime_r(&secs, &t)) == nullptr) return "??:??:??.???";
  std::array<char, 32> buf{};
  (void)snprintf(buf.data(), buf.size(), "%02d:%02d:%02d.%03d", t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(ms));
  return buf.data();
}

std::string IsoTime(int64_t timestamp_ns) {
  time_t secs = static_cast<time_t>(timestamp_ns / 1'000'000'000);
  int64_t us = (timestamp_ns % 1'000'000'000) / 1000;
  if (us < 0) {
    us += 1'000'000;
    --secs;
  }
  tm t{};
  if (gmtime_r(&secs, &t) == nullptr) return "";
  std::array<char, 48> buf{};
  (void)snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", t.tm_year + 1900, t.tm_mon + 1,
                 t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(us));
  return buf.data();
}

std::string EventDetails(const network_monitor::NetworkEvent& ev) {
  json x = json::parse(ev.extra_info(), nullptr, /*allow_exceptions=*/false);
  if (x.is_discarded() || !x.is_object()) {
    std::string raw = ev.extra_info().substr(0, kMaxFallbackDetails);
    return ev.extra_info().size() > kMaxFallbackDetails ? raw + "..." : raw;
  }
  if (Has(x, "netmonctl_truncated")) return StrCat("(too large for one chunk: ", Str(x, "original_bytes"), " bytes)");
  const std::string& type = ev.event_type();
  std::string proto = Str(x, "protocol");
  if (type == "DNS_QUERY" || type == "DNS_RESPONSE") {
    std::vector<std::string> parts = {Str(x, "type"), Str(x, "name")};
    if (type == "DNS_RESPONSE") {
      parts.push_back(Str(x, "rcode"));
      std::vector<std::string> answers;
      if (x.contains("answers") && x["answers"].is_array()) {
        for (const json& a : x["answers"]) {
          if (a.is_object()) answers.push_back(Str(a, "data").empty() ? Str(a, "name") : Str(a, "data"));
        }
      }
      if (!answers.empty()) parts.push_back("-> " + Join(answers, ","));
      if (Has(x, "latency_us") && x["latency_us"].is_number_unsigned()) {
        parts.push_back(StrCat("(", Latency(x["latency_us"].get<uint64_t>()), ")"));
      }
    }
    if (proto == "tcp") parts.push_back("[tcp]");
    return Join(parts, " ");
  }
  if (type == "CONNECT") {
    std::vector<std::string> parts = {proto, Str(x, "outcome")};
    if (Has(x, "latency_us") && x["latency_us"].is_number_unsigned()) {
      parts.push_back(Latency(x["latency_us"].get<uint64_t>()));
    }
    if (Has(x, "error")) parts.push_back("error=" + Str(x, "error"));
    return Join(parts, " ");
  }
  if (type == "DATA" || type == "CLOSE") {
    std::vector<std::string> parts = {proto};
    if (Has(x, "packets_sent") || Has(x, "packets_received")) {
      parts.push_back(StrCat(Str(x, "packets_sent"), "/", Str(x, "packets_received"), " pkts"));
    }
    if (type == "CLOSE" && Has(x, "duration_ms")) parts.push_back(StrCat("after ", Str(x, "duration_ms"), " ms"));
    return Join(parts, " ");
  }
  if (type == "ACCEPT") return proto;
  std::string compact = x.dump(-1, ' ', false, json::error_handler_t::replace);
  return compact.size() > kMaxFallbackDetails ? compact.substr(0, kMaxFallbackDetails) + "..." : compact;
}

std::unique_ptr<EventPrinter> MakePrinter(Format format, std::ostream* out, PrinterOptions options) {
  switch (format) {
    case Format::kJson: return std::make_unique<JsonPrinter>(out);
    case Format::kCsv: return std::make_unique<CsvPrinter>(out);
    case Format::kTable: break;
  }
  return std::make_unique<TablePrinter>(out, options);
}

std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void PrintSessions(Format format, const std::vector<SessionInfo>& sessions, std::ostream* out, bool utc) {
  if (format == Format::kJson) {
    for (const SessionInfo& s : sessions) {
      json j = {{"session_id", s.session_id},
                {"state", s.state},
                {"duration_seconds", s.duration_seconds},
                {"filter",
                 {{"process_id", s.process_id},
                  {"port", s.port},
                  {"source_ip", s.source_ip},
                  {"destination_ip", s.destination_ip}}},
                {"events_total", s.events_total},
                {"events_dropped", s.events_dropped},
                {"last_sequence", s.last_sequence},
                {"started_ns", s.started_ns},
                {"ended_ns", s.ended_ns}};
      *out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    }
    return;
  }
  if (format == Format::kCsv) {
    *out << "session_id,state,duration_seconds,process_id,port,source_ip,destination_ip,events_total,"
            "events_dropped,last_sequence,started_ns,ended_ns\r\n";
    for (const SessionInfo& s : sessions) {
      *out << CsvField(s.session_id) << ',' << s.state << ',' << s.duration_seconds << ',' << s.process_id << ','
           << s.port << ',' << CsvField(s.source_ip) << ',' << CsvField(s.destination_ip) << ',' << s.events_total
           << ',' << s.events_dropped << ',' << s.last_sequence << ',' << s.started_ns << ',' << s.ended_ns << "\r\n";
    }
    return;
  }
  if (sessions.empty()) {
    *out << "(no captures)\n";
    return;
  }
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"SESSION", "STATE", "DURATION", "EVENTS", "DROPPED", "STARTED", "FILTER"});
  for (const SessionInfo& s : sessions) {
    rows.push_back({Printable(s.session_id), s.state, StrCat(s.duration_seconds, "s"), std::to_string(s.events_total),
                    std::to_string(s.events_dropped), s.started_ns != 0 ? ClockTime(s.started_ns, utc) : "-",
                    Printable(FilterText(s))});
  }
  // A finished list: the widths come from all rows.
  std::array<size_t, 7> width{};
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], DisplayWidth(r[i]));
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      bool right = i == 3 || i == 4;
      if (i > 0) line.append("  ");
      if (i + 1 == r.size()) {
        line.append(r[i]);
      } else if (right) {
        line.append(width[i] - DisplayWidth(r[i]), ' ').append(r[i]);
      } else {
        line.append(r[i]).append(width[i] - DisplayWidth(r[i]), ' ');
      }
    }
    *out << line << '\n';
  }
}

}  // namespace netmon::cli

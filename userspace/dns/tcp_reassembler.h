// SPDX-License-Identifier: Apache-2.0
// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message is preceded by a 2-byte big-endian length, and TCP
// segment boundaries say nothing about message boundaries. The reassembler keeps a small buffer per stream,
// accepts each segment's payload in stream order, and hands out every message as soon as it is complete.
//
// Memory is bounded twice: a stream buffers at most one incomplete message (<= 2 + 65535 bytes), and at most
// `max_streams` streams are kept (the least recently fed one is dropped to make room, and counted). Garbage on a
// stream (a length below a DNS header, or above `max_message`) resets that stream and is counted: its buffer and
// the rest of the segment are dropped, and the next segment is taken to start with a length prefix. That is the
// best resynchronisation point there is, because DNS peers write each framed message with one send, so segments
// usually start at message boundaries; a wrong guess costs one more reset or one message the decoder rejects.
//
// Ordering, gaps and retransmissions are the caller's business (it sees TCP sequence numbers; we do not): call
// Reset() on a gap, Close() on FIN/RST.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace netmon::dns {

class TcpReassembler {
 public:
  struct Options {
    size_t max_streams = 1024;
    size_t max_message = 65535;  // larger length prefixes reset the stream
  };

  struct Stats {
    uint64_t messages = 0;          // complete messages handed out
    uint64_t streams_evicted = 0;   // streams dropped to stay within max_streams (their partial data is lost)
    uint64_t resets_malformed = 0;  // length prefix < 12 (smaller than a DNS header): not DNS
    uint64_t resets_oversize = 0;   // length prefix > max_message
    uint64_t bytes_dropped = 0;     // payload bytes discarded by evictions, resets and closes mid-message
  };

  // Called once per complete message with the message bytes (length prefix stripped); valid only during the call.
  // It must not call back into the same reassembler (the stream it is being fed from is in use).
  using MessageFn = std::function<void(std::span<const uint8_t> message)>;

  TcpReassembler();
  explicit TcpReassembler(Options options);

  // Feeds the payload of the next in-order segment of stream `key` (opaque to us: e.g. netns + 4-tuple).
  void Feed(const std::string& key, std::span<const uint8_t> payload, const MessageFn& on_message);
  // Same, collecting the messages.
  std::vector<std::vector<uint8_t>> Feed(const std::string& key, std::span<const uint8_t> payload);

  // Forget the partial message of `key`; the next byte fed is taken as the start of a length prefix.
  void Reset(const std::string& key);
  // The stream ended: forget it (a partial message left in it is counted in bytes_dropped).
  void Close(const std::string& key);

  size_t stream_count() const { return streams_.size(); }
  // Bytes currently buffered across all streams.
  size_t buffered_bytes() const { return buffered_; }
  const Stats& stats() const { return stats_; }
  const Options& options() const { return options_; }

 private:
  struct Stream {
    std::string key;
    std::vector<uint8_t> buf;  // the current incomplete message, prefix included
  };
  using StreamList = std::list<Stream>;  // front = most recently fed

  Stream& Touch(const std::string& key);
  void Drop(StreamList::iterator it);
  void Clear(Stream& s);

  Options options_;
  StreamList lru_;
  std::unordered_map<std::string, StreamList::iterator> streams_;
  size_t buffered_ = 0;
  Stats stats_;
};

}  // namespace netmon::dns

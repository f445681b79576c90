// SPDX-License-Identifier: Apache-2.0
// The NATS / JetStream adapter over Debian's NATS C client (libnats): RAII owners for the C objects, errors as
// absl::Status (naming the operation and carrying the library's own text), stream and durable consumer set-up, and
// AckedPublisher, which publishes a batch to JetStream asynchronously and reports, per message, whether the server
// acknowledged it (each message carries a Nats-Msg-Id, so a retry after a lost acknowledgement is de-duplicated by
// the stream instead of stored twice).
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace netmon::correlate {

absl::Status NatsError(natsStatus s, std::string_view op);

struct NatsConnectOptions {
  std::vector<std::string> urls{"nats://127.0.0.1:4222"};
  std::string name = "netmon";
  std::string user;
  std::string password;
  std::string token;
  std::string creds_file;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  int64_t connect_timeout_ms = 2000;
  int64_t reconnect_wait_ms = 1000;
  int reconnect_buffer_bytes = 8 << 20;
};

struct NatsMsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using NatsMsgPtr = std::unique_ptr<natsMsg, NatsMsgDeleter>;

// One connection, reconnecting forever once established. Thread-safe (libnats connections are).
class NatsConnection {
 public:
  NatsConnection() = default;  // use the factory below; public only for std::make_unique
  // Fails if no server answers now; callers that must survive a missing server retry.
  static absl::StatusOr<std::unique_ptr<NatsConnection>> Connect(const NatsConnectOptions& options);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  natsConnection* get() const { return nc_; }
  bool connected() const { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }
  uint64_t disconnects() const { return disconnects_.load(); }
  uint64_t reconnects() const { return reconnects_.load(); }

 private:
  static void OnDisconnected(natsConnection* nc, void* closure);
  static void OnReconnected(natsConnection* nc, void* closure);
  static void OnClosed(natsConnection* nc, void* closure);

  natsConnection* nc_ = nullptr;
  std::atomic<uint64_t> disconnects_{0};
  std::atomic<uint64_t> reconnects_{0};
  // libnats runs the disconnected callback on its own thread after natsConnection_Close returns, and the closed
  // callback after that: the destructor waits for `closed_` so no callback touches a freed object.
  std::mutex closed_mu_;
  std::condition_variable closed_cv_;
  bool closed_ = false;
};

// A core-NATS subscription delivering to a callback on the library's thread. Unsubscribes on destruction.
class NatsSubscription {
 public:
  NatsSubscription() = default;                       // use the factory below; public only for std::make_unique
  using Handler = std::function<void(natsMsg* msg)>;  // the message is destroyed after the handler returns
  static absl::StatusOr<std::unique_ptr<NatsSubscription>> Subscribe(NatsConnection* conn, const std::string& subject,
                                                                     Handler handler);
  ~NatsSubscription();
  NatsSubscription(const NatsSubscription&) = delete;
  NatsSubscription& operator=(const NatsSubscription&) = delete;

 private:
  static void OnMsg(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  natsSubscription* sub_ = nullptr;
  Handler handler_;
};

// Creates the stream if it does not exist; if it exists without a subject that covers `subjects`, adds them.
absl::Status EnsureStream(jsCtx* js, const std::string& name, const std::vector<std::string>& subjects,
                          int64_t duplicate_window_ms);

// True if `subject` (no wildcards) is matched by `filter` (which may hold '*' and a trailing '>').
bool SubjectMatches(std::string_view filter, std::string_view subject);

struct JsCtxDeleter {
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
using JsCtxPtr = std::unique_ptr<jsCtx, JsCtxDeleter>;

// A JetStream context without asynchronous-publish handlers (stream management, pull consumers).
absl::StatusOr<JsCtxPtr> MakeJetStream(NatsConnection* conn, int64_t api_wait_ms);

// A durable pull consumer on `stream` filtered to `filter_subject`, explicit acks. Created if missing (and kept when
// this process exits, so it resumes where it stopped).
class PullConsumer {
 public:
  PullConsumer() = default;  // use the factory below; public only for std::make_unique
  struct Options {
    std::string stream;
    std::string durable;
    std::string filter_subject;
    int64_t ack_wait_ms = 30000;
    int64_t max_ack_pending = 8192;
  };
  static absl::StatusOr<std::unique_ptr<PullConsumer>> Create(NatsConnection* conn, const Options& options);
  ~PullConsumer();

  // Up to `batch` messages, waiting at most timeout_ms. An empty vector with OK status means nothing arrived.
  absl::StatusOr<std::vector<NatsMsgPtr>> Fetch(int batch, int64_t timeout_ms);

 private:
  JsCtxPtr js_;
  natsSubscription* sub_ = nullptr;
};

struct OutMsg {
  std::string subject;
  std::string data;
  std::string msg_id;  // Nats-Msg-Id; must be unique per logical message and stable across retries
};

// Publishes batches to JetStream with acknowledgements. One batch at a time (PublishBatch is not re-entrant).
class AckedPublisher {
 public:
  AckedPublisher() = default;  // use the factory below; public only for std::make_unique
  static absl::StatusOr<std::unique_ptr<AckedPublisher>> Create(NatsConnection* conn, int64_t max_pending);
  ~AckedPublisher();

  struct Result {
    std::vector<bool> acked;  // per message
    uint64_t duplicates = 0;  // acknowledged as already stored (a retry of something the stream had)
    uint64_t errors = 0;
    std::string first_error;
  };
  // Publishes every message and waits (at most timeout_ms) for the acknowledgements.
  Result PublishBatch(const std::vector<const OutMsg*>& msgs, int64_t timeout_ms);

 private:
  enum class State : uint8_t { kPending, kAcked, kDuplicate, kFailed };
  struct AckState {
    std::mutex mu;
    std::unordered_map<std::string, State> inflight;  // by Nats-Msg-Id
    std::string last_error;
  };
  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);

  std::shared_ptr<AckState> state_;
  JsCtxPtr js_;
};

}  // namespace netmon::correlate

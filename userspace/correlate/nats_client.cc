// SPDX-License-Identifier: Apache-2.0
#include "correlate/nats_client.h"

#include <chrono>
#include <cstring>

#include "common/log.h"
#include "common/str_cat.h"

namespace netmon::correlate {
namespace {

constexpr char kMsgIdHeader[] = "Nats-Msg-Id";
constexpr int64_t kNsPerMs = 1'000'000;

absl::StatusCode CodeOf(natsStatus s) {
  switch (s) {
    case NATS_OK: return absl::StatusCode::kOk;
    case NATS_TIMEOUT: return absl::StatusCode::kDeadlineExceeded;
    case NATS_NOT_FOUND: return absl::StatusCode::kNotFound;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT: return absl::StatusCode::kInvalidArgument;
    case NATS_NOT_PERMITTED: return absl::StatusCode::kPermissionDenied;
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR: return absl::StatusCode::kUnavailable;
    default: return absl::StatusCode::kInternal;
  }
}

absl::Status JsError(natsStatus s, jsErrCode jerr, std::string_view op) {
  absl::Status st = NatsError(s, op);
  if (jerr == 0) return st;
  return absl::Status(st.code(), StrCat(st.message(), " (JetStream error ", static_cast<int>(jerr), ")"));
}

// Options owner: libnats copies what it needs when connecting.
struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

}  // namespace

absl::Status NatsError(natsStatus s, std::string_view op) {
  if (s == NATS_OK) return absl::OkStatus();
  // The library keeps a thread-local text with more detail than the status name (which file, which server said what).
  const char* detail = nats_GetLastError(nullptr);
  std::string msg = StrCat(op, ": ", natsStatus_GetText(s));
  if (detail != nullptr && *detail != '\0' && std::strcmp(detail, natsStatus_GetText(s)) != 0) {
    msg += StrCat(" (", detail, ")");
  }
  return absl::Status(CodeOf(s), msg);
}

bool SubjectMatches(std::string_view filter, std::string_view subject) {
  size_t f = 0, s = 0;
  while (true) {
    size_t fd = filter.find('.', f);
    size_t sd = subject.find('.', s);
    std::string_view ft = filter.substr(f, fd == std::string_view::npos ? std::string_view::npos : fd - f);
    std::string_view st = subject.substr(s, sd == std::string_view::npos ? std::string_view::npos : sd - s);
    if (ft == ">") return s <= subject.size() && !st.empty();
    if (ft != "*" && ft != st) return false;
    if (fd == std::string_view::npos || sd == std::string_view::npos) {
      return fd == std::string_view::npos && sd == std::string_view::npos;
    }
    f = fd + 1;
    s = sd + 1;
  }
}

absl::StatusOr<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const NatsConnectOptions& options) {
  natsOptions* raw = nullptr;
  natsStatus s = natsOptions_Create(&raw);
  if (s != NATS_OK) return NatsError(s, "nats options");
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  std::vector<const char*> servers;
  for (const auto& u : options.urls) servers.push_back(u.c_str());
  auto conn = std::make_unique<NatsConnection>();
  if (s == NATS_OK) s = natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts.get(), options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.get(), options.connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts.get(), true);
  // Once connected, reconnect forever: a NATS restart must not end the process.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.get(), -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts.get(), options.reconnect_wait_ms);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(opts.get(), options.reconnect_buffer_bytes);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts.get(), &NatsConnection::OnDisconnected, conn.get());
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts.get(), &NatsConnection::OnReconnected, conn.get());
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts.get(), &NatsConnection::OnClosed, conn.get());
  if (s == NATS_OK && !options.user.empty()) {
    s = natsOptions_SetUserInfo(opts.get(), options.user.c_str(), options.password.c_str());
  }
  if (s == NATS_OK && !options.token.empty()) s = natsOptions_SetToken(opts.get(), options.token.c_str());
  if (s == NATS_OK && !options.creds_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(opts.get(), options.creds_file.c_str(), nullptr);
  }
  if (s != NATS_OK) return NatsError(s, "nats options");
  if (!options.tls_ca_file.empty() || !options.tls_cert_file.empty()) {
    s = natsOptions_SetSecure(opts.get(), true);
    if (s == NATS_OK && !options.tls_ca_file.empty()) {
      s = natsOptions_LoadCATrustedCertificates(opts.get(), options.tls_ca_file.c_str());
    }
    if (s == NATS_OK && !options.tls_cert_file.empty()) {
      s = natsOptions_LoadCertificatesChain(opts.get(), options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    }
    if (s != NATS_OK) return NatsError(s, "nats TLS set-up");
  }
  s = natsConnection_Connect(&conn->nc_, opts.get());
  if (s != NATS_OK) {
    conn->nc_ = nullptr;
    return NatsError(s, StrCat("connect to NATS at ", options.urls.empty() ? "?" : options.urls.front()));
  }
  return conn;
}

NatsConnection::~NatsConnection() {
  if (nc_ == nullptr) return;
  natsConnection_Close(nc_);
  {
    // Bounded: a library that never calls back must not hang shutdown; 5 s is far beyond the few ms it takes.
    std::unique_lock<std::mutex> lock(closed_mu_);
    if (!closed_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return closed_; })) {
      NETMON_LOG(kWarn, "nats", "closed callback did not arrive within 5 s");
    }
  }
  natsConnection_Destroy(nc_);
}

void NatsConnection::OnClosed(natsConnection*, void* closure) {
  auto* self = static_cast<NatsConnection*>(closure);
  std::lock_guard<std::mutex> lock(self->closed_mu_);
  self->closed_ = true;
  self->closed_cv_.notify_all();
}

void NatsConnection::OnDisconnected(natsConnection*, void* closure) {
  static_cast<NatsConnection*>(closure)->disconnects_.fetch_add(1);
  NETMON_LOG(kWarn, "nats", "disconnected; reconnecting");
}

void NatsConnection::OnReconnected(natsConnection*, void* closure) {
  static_cast<NatsConnection*>(closure)->reconnects_.fetch_add(1);
  NETMON_LOG(kInfo, "nats", "reconnected");
}

absl::StatusOr<std::unique_ptr<NatsSubscription>> NatsSubscription::Subscribe(NatsConnection* conn,
                                                                              const std::string& subject,
                                                                              Handler handler) {
  auto sub = std::make_unique<NatsSubscription>();
  sub->handler_ = std::move(handler);
  natsStatus s =
      natsConnection_Subscribe(&sub->sub_, conn->get(), subject.c_str(), &NatsSubscription::OnMsg, sub.get());
  if (s != NATS_OK) {
    sub->sub_ = nullptr;
    return NatsError(s, StrCat("subscribe to ", subject));
  }
  return sub;
}

void NatsSubscription::OnMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  NatsMsgPtr owned(msg);
  static_cast<NatsSubscription*>(closure)->handler_(owned.get());
}

NatsSubscription::~NatsSubscription() {
  if (sub_ == nullptr) return;
  // Drain, then wait: when this returns no callback is running or will run, so the handler's captures may go.
  if (natsSubscription_Drain(sub_) == NATS_OK) {
    natsSubscription_WaitForDrainCompletion(sub_, 5000);
  } else {
    natsSubscription_Unsubscribe(sub_);
  }
  natsSubscription_Destroy(sub_);
}

absl::StatusOr<JsCtxPtr> MakeJetStream(NatsConnection* conn, int64_t api_wait_ms) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = api_wait_ms;
  jsCtx* js = nullptr;
  natsStatus s = natsConnection_JetStream(&js, conn->get(), &o);
  if (s != NATS_OK) return NatsError(s, "JetStream context");
  return JsCtxPtr(js);
}

absl::Status EnsureStream(jsCtx* js, const std::string& name, const std::vector<std::string>& subjects,
                          int64_t duplicate_window_ms) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js, name.c_str(), nullptr, &jerr);
  std::vector<const char*> subj;
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    for (const auto& x : subjects) subj.push_back(x.c_str());
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name.c_str();
    cfg.Subjects = subj.data();
    cfg.SubjectsLen = static_cast<int>(subj.size());
    cfg.Storage = js_FileStorage;
    cfg.Duplicates = duplicate_window_ms * kNsPerMs;
    jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
    if (s != NATS_OK) return JsError(s, jerr, StrCat("create stream ", name));
    jsStreamInfo_Destroy(si);
    NETMON_LOG(kInfo, "nats", "created JetStream stream ", name);
    return absl::OkStatus();
  }
  if (s != NATS_OK) return JsError(s, jerr, StrCat("stream info ", name));
  // The stream exists (ServiceRadar's "events" usually does): add our subjects only if none of its own covers them.
  std::vector<std::string> missing;
  for (const auto& want : subjects) {
    bool covered = false;
    for (int i = 0; i < si->Config->SubjectsLen; ++i) {
      std::string_view have = si->Config->Subjects[i];
      if (have == want || SubjectMatches(have, want)) covered = true;
    }
    if (!covered) missing.push_back(want);
  }
  if (missing.empty()) {
    jsStreamInfo_Destroy(si);
    return absl::OkStatus();
  }
  for (int i = 0; i < si->Config->SubjectsLen; ++i) subj.push_back(si->Config->Subjects[i]);
  for (const auto& m : missing) subj.push_back(m.c_str());
  jsStreamConfig cfg = *si->Config;
  cfg.Subjects = subj.data();
  cfg.SubjectsLen = static_cast<int>(subj.size());
  jsStreamInfo* updated = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_UpdateStream(&updated, js, &cfg, nullptr, &jerr);
  jsStreamInfo_Destroy(si);
  if (s != NATS_OK) return JsError(s, jerr, StrCat("add subjects to stream ", name));
  jsStreamInfo_Destroy(updated);
  NETMON_LOG(kInfo, "nats", "added ", missing.size(), " subject(s) to JetStream stream ", name);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PullConsumer>> PullConsumer::Create(NatsConnection* conn, const Options& options) {
  auto pc = std::make_unique<PullConsumer>();
  auto js = MakeJetStream(conn, 5000);
  if (!js.ok()) return js.status();
  pc->js_ = std::move(*js);
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s =
      js_GetConsumerInfo(&ci, pc->js_.get(), options.stream.c_str(), options.durable.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = options.durable.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = options.ack_wait_ms * kNsPerMs;
    cc.MaxAckPending = options.max_ack_pending;
    cc.FilterSubject = options.filter_subject.c_str();
    cc.DeliverPolicy = js_DeliverAll;
    jerr = static_cast<jsErrCode>(0);
    s = js_AddConsumer(&ci, pc->js_.get(), options.stream.c_str(), &cc, nullptr, &jerr);
    if (s != NATS_OK) return JsError(s, jerr, StrCat("create consumer ", options.durable));
    NETMON_LOG(kInfo, "nats", "created durable consumer ", options.durable, " on ", options.stream, " for ",
               options.filter_subject);
  } else if (s != NATS_OK) {
    return JsError(s, jerr, StrCat("consumer info ", options.durable));
  } else if (ci->Config != nullptr && ci->Config->FilterSubject != nullptr &&
             options.filter_subject != ci->Config->FilterSubject) {
    std::string existing = ci->Config->FilterSubject;
    jsConsumerInfo_Destroy(ci);
    return absl::FailedPreconditionError(StrCat("consumer ", options.durable, " exists with filter ", existing,
                                                ", not ", options.filter_subject,
                                                "; choose another nats.durable or delete the consumer"));
  }
  jsConsumerInfo_Destroy(ci);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options.stream.c_str();
  so.Consumer = options.durable.c_str();
  jerr = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&pc->sub_, pc->js_.get(), options.filter_subject.c_str(), options.durable.c_str(), nullptr, &so,
                       &jerr);
  if (s != NATS_OK) {
    pc->sub_ = nullptr;
    return JsError(s, jerr, StrCat("pull subscribe ", options.durable));
  }
  return pc;
}

PullConsumer::~PullConsumer() {
  // Destroy, not Unsubscribe: the durable consumer stays on the server so the next run resumes from it.
  if (sub_ != nullptr) natsSubscription_Destroy(sub_);
}

absl::StatusOr<std::vector<NatsMsgPtr>> PullConsumer::Fetch(int batch, int64_t timeout_ms) {
  natsMsgList list{};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&list, sub_, batch, timeout_ms, &jerr);
  std::vector<NatsMsgPtr> out;
  if (s == NATS_TIMEOUT) return out;
  if (s != NATS_OK) return JsError(s, jerr, "fetch");
  out.reserve(static_cast<size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    out.emplace_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;  // ownership moved; natsMsgList_Destroy skips NULLs
  }
  natsMsgList_Destroy(&list);
  return out;
}

namespace {

// The acknowledgement state a publisher's callback writes. libnats may still be inside the callback for a moment
// after the publisher is gone (an acknowledgement that raced the teardown), so the state outlives its publisher:
// retired states are parked here. One per AckedPublisher ever created (one per connection), so this stays tiny.
struct AckStateGraveyard {
  std::mutex mu;
  std::vector<std::shared_ptr<void>> parked;
};
AckStateGraveyard& Graveyard() {
  static AckStateGraveyard g;
  return g;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AckedPublisher>> AckedPublisher::Create(NatsConnection* conn, int64_t max_pending) {
  auto p = std::make_unique<AckedPublisher>();
  p->state_ = std::make_shared<AckState>();
  jsOptions o;
  jsOptions_Init(&o);
  o.PublishAsync.MaxPending = max_pending;
  o.PublishAsync.AckHandler = &AckedPublisher::OnAck;
  o.PublishAsync.AckHandlerClosure = p->state_.get();
  jsCtx* js = nullptr;
  natsStatus s = natsConnection_JetStream(&js, conn->get(), &o);
  if (s != NATS_OK) return NatsError(s, "JetStream context");
  p->js_.reset(js);
  return p;
}

AckedPublisher::~AckedPublisher() {
  if (js_) {
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, js_.get()) == NATS_OK) natsMsgList_Destroy(&pending);
    js_.reset();
  }
  std::lock_guard<std::mutex> lock(Graveyard().mu);
  Graveyard().parked.push_back(std::move(state_));
}

void AckedPublisher::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  NatsMsgPtr owned(msg);  // the acknowledgement handler owns the message
  auto* state = static_cast<AckState*>(closure);
  const char* id = nullptr;
  if (natsMsgHeader_Get(msg, kMsgIdHeader, &id) != NATS_OK || id == nullptr) return;
  std::lock_guard<std::mutex> lock(state->mu);
  auto it = state->inflight.find(id);
  if (it == state->inflight.end()) return;  // from an earlier batch that already gave up on it
  if (pa != nullptr) {
    it->second = pa->Duplicate ? State::kDuplicate : State::kAcked;
  } else {
    it->second = State::kFailed;
    if (pae != nullptr && state->last_error.empty()) {
      state->last_error = StrCat(natsStatus_GetText(pae->Err), pae->ErrText ? StrCat(": ", pae->ErrText) : "");
    }
  }
}

AckedPublisher::Result AckedPublisher::PublishBatch(const std::vector<const OutMsg*>& msgs, int64_t timeout_ms) {
  Result res;
  res.acked.assign(msgs.size(), false);
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->inflight.clear();
    state_->last_error.clear();
    for (const OutMsg* m : msgs) state_->inflight[m->msg_id] = State::kPending;
  }
  for (const OutMsg* m : msgs) {
    natsMsg* raw = nullptr;
    natsStatus s = natsMsg_Create(&raw, m->subject.c_str(), nullptr, m->data.data(), static_cast<int>(m->data.size()));
    NatsMsgPtr msg(raw);
    if (s == NATS_OK) s = natsMsgHeader_Set(msg.get(), kMsgIdHeader, m->msg_id.c_str());
    if (s == NATS_OK) {
      natsMsg* handoff = msg.release();
      s = js_PublishMsgAsync(js_.get(), &handoff, nullptr);
      msg.reset(handoff);  // NULL when the library took it
    }
    if (s != NATS_OK) {
      ++res.errors;
      if (res.first_error.empty()) res.first_error = NatsError(s, "publish").ToString();
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->inflight[m->msg_id] = State::kFailed;
    }
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = timeout_ms;
  if (js_PublishAsyncComplete(js_.get(), &wait) != NATS_OK) {
    // Whatever is still unacknowledged is taken back (and freed): it counts as failed and will be retried.
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, js_.get()) == NATS_OK) natsMsgList_Destroy(&pending);
  }
  std::lock_guard<std::mutex> lock(state_->mu);
  for (size_t i = 0; i < msgs.size(); ++i) {
    State st = state_->inflight[msgs[i]->msg_id];
    res.acked[i] = st == State::kAcked || st == State::kDuplicate;
    if (st == State::kDuplicate) ++res.duplicates;
    if (st == State::kFailed) ++res.errors;
  }
  if (res.first_error.empty() && !state_->last_error.empty()) res.first_error = state_->last_error;
  state_->inflight.clear();
  return res;
}

}  // namespace netmon::correlate

// The Gloo process group behind process_group.h: the only C++ in wick. A gloo::rendezvous::Store
// over wick's C store client, a TCP full mesh, and one thread per group running collectives in
// submission order (every rank submits the same sequence, so tags match across ranks).
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/gather.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/scatter.h>
#include <gloo/transport/tcp/device.h>

#include "dist/pg_backend.h"

namespace {

// Gloo's rendezvous keys live under the group's prefix in wick's store. Failures throw with
// the store's message (Gloo propagates them out of connectFullMesh).
class WickStore : public gloo::rendezvous::Store {
 public:
  WickStore(wick_store_client *c, std::string prefix, double timeout_s)
      : c_(c), prefix_(std::move(prefix)), timeout_s_(timeout_s) {}

  void set(const std::string &key, const std::vector<char> &data) override {
    std::string k = prefix_ + key;
    if (wick_store_set(c_, k.c_str(), data.data(), data.size()) != WICK_OK) fail();
  }

  std::vector<char> get(const std::string &key) override {
    wait({key});
    std::string k = prefix_ + key;
    char *v = nullptr;
    size_t n = 0;
    if (wick_store_get(c_, k.c_str(), &v, &n) != WICK_OK) fail();
    std::vector<char> out(v, v + n);
    free(v);
    return out;
  }

  void wait(const std::vector<std::string> &keys) override { wait(keys, std::chrono::milliseconds(0)); }

  void wait(const std::vector<std::string> &keys, const std::chrono::milliseconds &) override {
    // always our own timeout: Gloo's default (30 s) is not the group's
    std::vector<std::string> full;
    std::vector<const char *> ptrs;
    for (const auto &k : keys) full.push_back(prefix_ + k);
    for (const auto &k : full) ptrs.push_back(k.c_str());
    if (wick_store_wait(c_, ptrs.data(), (int)ptrs.size(), timeout_s_) != WICK_OK) fail();
  }

 private:
  [[noreturn]] static void fail() { throw std::runtime_error(wick_last_error()); }
  wick_store_client *c_;
  std::string prefix_;
  double timeout_s_;
};

// Gloo writes to its sockets without MSG_NOSIGNAL: when a peer is gone the write raises SIGPIPE,
// which would kill this process instead of failing the collective. SIGPIPE is blocked in every
// thread that touches Gloo's sockets: the group's thread and Gloo's event loop inherit the
// mask from the scope that creates them; on the caller's thread it is blocked for the scope
// only, and a SIGPIPE raised meanwhile is consumed before the mask is restored.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
};

using ReduceFn = void (*)(void *, const void *, const void *, size_t);

template <typename T>
ReduceFn reduce_fn(wick_pg_reduce r) {
  switch (r) {
    case WICK_PG_PRODUCT: return &gloo::product<T>;
    case WICK_PG_MIN: return &gloo::min<T>;
    case WICK_PG_MAX: return &gloo::max<T>;
    default: return &gloo::sum<T>;
  }
}

}  // namespace

// The Gloo group and its work items extend pg_backend.h's headers (process_group.c dispatches).
struct GlooPg;

struct GlooWork : wick_pg_work {
  wick_pg_op op;
  GlooPg *pg = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  wick_status status = WICK_OK;
  std::string message;
};

struct GlooPg : wick_pg {
  std::shared_ptr<gloo::Context> ctx;
  std::chrono::milliseconds timeout;
  int rank = 0, size = 1;
  uint32_t tag = 0;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<GlooWork *> queue;
  bool busy = false; // an op is running (on the thread, or inline in a waiter)
  bool stopping = false;
};

namespace {

template <typename T>
void all_reduce(GlooPg *pg, const wick_pg_op &op, uint32_t tag) {
  gloo::AllreduceOptions o(pg->ctx);
  T *p = static_cast<T *>(op.data);
  o.setInput<T>(p, op.count);
  o.setOutput<T>(p, op.count);
  o.setReduceFunction(reduce_fn<T>(op.reduce));
  o.setTag(tag);
  o.setTimeout(pg->timeout);
  gloo::allreduce(o);
}

// Everything but all_reduce moves bytes: run on uint8_t with byte counts.
void run_op(GlooPg *pg, const wick_pg_op &op, uint32_t tag) {
  size_t es = wick_dtype_size(op.dtype), bytes = op.count * es;
  uint8_t *data = static_cast<uint8_t *>(op.data), *aux = static_cast<uint8_t *>(op.aux);
  switch (op.kind) {
    case WICK_PG_ALL_REDUCE:
      switch (op.dtype) {
        case WICK_DTYPE_F32: all_reduce<float>(pg, op, tag); break;
        case WICK_DTYPE_F64: all_reduce<double>(pg, op, tag); break;
        case WICK_DTYPE_I64: all_reduce<int64_t>(pg, op, tag); break;
        case WICK_DTYPE_I32: all_reduce<int32_t>(pg, op, tag); break;
        case WICK_DTYPE_U8: all_reduce<uint8_t>(pg, op, tag); break;
        default: throw std::runtime_error("unsupported dtype");
      }
      break;
    case WICK_PG_BROADCAST: {
      gloo::BroadcastOptions o(pg->ctx);
      if (pg->rank == op.root) o.setInput<uint8_t>(data, bytes);
      o.setOutput<uint8_t>(data, bytes);
      o.setRoot(op.root);
      o.setTag(tag);
      o.setTimeout(pg->timeout);
      gloo::broadcast(o);
      break;
    }
    case WICK_PG_ALL_GATHER: {
      gloo::AllgatherOptions o(pg->ctx);
      o.setInput<uint8_t>(data, bytes);
      o.setOutput<uint8_t>(aux, bytes * pg->size);
      o.setTag(tag);
      o.setTimeout(pg->timeout);
      gloo::allgather(o);
      break;
    }
    case WICK_PG_GATHER: {
      gloo::GatherOptions o(pg->ctx);
      o.setInput<uint8_t>(data, bytes);
      if (pg->rank == op.root) o.setOutput<uint8_t>(aux, bytes * pg->size);
      o.setRoot(op.root);
      o.setTag(tag);
      o.setTimeout(pg->timeout);
      gloo::gather(o);
      break;
    }
    case WICK_PG_SCATTER: {
      gloo::ScatterOptions o(pg->ctx);
      if (pg->rank == op.root) {
        std::vector<uint8_t *> ptrs;
        for (int i = 0; i < pg->size; i++) ptrs.push_back(aux + (size_t)i * bytes);
        o.setInputs<uint8_t>(ptrs, bytes);
      }
      o.setOutput<uint8_t>(data, bytes);
      o.setRoot(op.root);
      o.setTag(tag);
      o.setTimeout(pg->timeout);
      gloo::scatter(o);
      break;
    }
    case WICK_PG_BARRIER: {
      gloo::BarrierOptions o(pg->ctx);
      o.setTag(tag);
      o.setTimeout(pg->timeout);
      gloo::barrier(o);
      break;
    }
    case WICK_PG_REDUCE_SCATTER: throw std::runtime_error("not supported by the gloo backend");
  }
}

// Gloo's messages start with "[file:line] ": keep only the text.
std::string gloo_message(const std::exception &e) {
  std::string m = e.what();
  if (!m.empty() && m[0] == '[') {
    size_t end = m.find("] ");
    if (end != std::string::npos) m = m.substr(end + 2);
  }
  return m;
}

void finish(GlooWork *w, wick_status s, std::string msg) {
  std::lock_guard<std::mutex> lock(w->mu);
  w->status = s;
  w->message = std::move(msg);
  w->done = true;
  w->cv.notify_all();
}

// Runs w, popped from the queue with busy set by the caller; clears busy when done.
void run_work(GlooPg *pg, GlooWork *w) {
  try {
    run_op(pg, w->op, pg->tag++);
    finish(w, WICK_OK, "");
  } catch (const std::exception &e) {
    finish(w, WICK_ERR_DIST, std::string(w->op.name) + ": " + gloo_message(e));
  }
  std::lock_guard<std::mutex> lock(pg->mu);
  pg->busy = false;
  pg->cv.notify_all();
}

void loop(GlooPg *pg) {
  for (;;) {
    GlooWork *w;
    {
      std::unique_lock<std::mutex> lock(pg->mu);
      pg->cv.wait(lock, [pg] { return pg->stopping || (!pg->queue.empty() && !pg->busy); });
      if (pg->queue.empty()) return;
      w = pg->queue.front();
      pg->queue.pop_front();
      pg->busy = true;
    }
    run_work(pg, w);
  }
}

// A waiter whose op is next in line and not started runs it itself: a synchronous collective
// then costs no hand-off to the group's thread and back (the order on the wire is unchanged,
// since only the queue's head is taken and one op runs at a time).
void run_inline_if_next(GlooWork *w) {
  GlooPg *pg = w->pg;
  {
    std::lock_guard<std::mutex> lock(pg->mu);
    if (pg->busy || pg->queue.empty() || pg->queue.front() != w) return;
    pg->queue.pop_front();
    pg->busy = true;
  }
  SigpipeBlock block; // as on the group's thread: a dead peer is an error, not a signal
  run_work(pg, w);
}

// The ops behind process_group.c's dispatch.
void gloo_destroy(wick_pg *base) {
  auto *pg = static_cast<GlooPg *>(base);
  SigpipeBlock block; // closing the connections may write
  {
    std::lock_guard<std::mutex> lock(pg->mu);
    pg->stopping = true;
    pg->cv.notify_all();
  }
  pg->thread.join();
  delete pg;
}

wick_status gloo_submit(wick_pg *base, const wick_pg_op *op, wick_pg_work **out);

wick_status gloo_wait(wick_pg_work *base) {
  auto *w = static_cast<GlooWork *>(base);
  run_inline_if_next(w);
  std::unique_lock<std::mutex> lock(w->mu);
  w->cv.wait(lock, [w] { return w->done; });
  if (w->status != WICK_OK) return wick_errorf(w->status, "%s", w->message.c_str());
  return WICK_OK;
}

bool gloo_done(wick_pg_work *base) {
  auto *w = static_cast<GlooWork *>(base);
  std::lock_guard<std::mutex> lock(w->mu);
  return w->done;
}

void gloo_free_work(wick_pg_work *base) {
  auto *w = static_cast<GlooWork *>(base);
  {
    std::unique_lock<std::mutex> lock(w->mu);
    w->cv.wait(lock, [w] { return w->done; });
  }
  delete w;
}

const wick_pg_ops gloo_ops = {"gloo", gloo_destroy, gloo_submit, gloo_wait, gloo_done, gloo_free_work};

wick_status gloo_submit(wick_pg *base, const wick_pg_op *op, wick_pg_work **out) {
  auto *pg = static_cast<GlooPg *>(base);
  if (op->kind == WICK_PG_ALL_REDUCE && op->reduce == WICK_PG_AVG)
    return wick_errorf(WICK_ERR_ARG, "%s: avg is not supported by the gloo backend", op->name);
  auto *w = new (std::nothrow) GlooWork;
  if (!w) return wick_errorf(WICK_ERR_OOM, "%s: out of memory", op->name);
  w->ops = &gloo_ops;
  w->op = *op;
  w->pg = pg;
  {
    std::lock_guard<std::mutex> lock(pg->mu);
    pg->queue.push_back(w);
    pg->cv.notify_all();
  }
  *out = w;
  return WICK_OK;
}

}  // namespace

extern "C" wick_status wick_pg_create(wick_store_client *store, const char *prefix, int rank,
                                      int size, double timeout_s, const char *host,
                                      const char *iface, wick_pg **out) {
  *out = nullptr;
  SigpipeBlock block;
  try {
    gloo::transport::tcp::attr attr;
    if (iface) {
      attr.iface = iface;
    } else if (host) {
      attr.hostname = host;
    } else {
      char name[256] = {0};
      gethostname(name, sizeof name - 1);
      attr.hostname = name;
    }
    auto dev = gloo::transport::tcp::CreateDevice(attr);
    auto ctx = std::make_shared<gloo::rendezvous::Context>(rank, size);
    auto timeout = std::chrono::milliseconds((long long)(timeout_s * 1000));
    ctx->setTimeout(timeout);
    WickStore st(store, std::string(prefix ? prefix : ""), timeout_s);
    ctx->connectFullMesh(st, dev);
    auto *pg = new GlooPg;
    pg->ops = &gloo_ops;
    pg->ctx = ctx;
    pg->timeout = timeout;
    pg->rank = rank;
    pg->size = size;
    pg->thread = std::thread(loop, pg);
    *out = pg;
    return WICK_OK;
  } catch (const std::exception &e) {
    return wick_errorf(WICK_ERR_DIST, "init_process_group: gloo rendezvous of rank %d of %d failed: %s",
                       rank, size, gloo_message(e).c_str());
  }
}

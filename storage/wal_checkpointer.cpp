#include "storage/wal_checkpointer.hpp"

#include <chrono>
#include <utility>

namespace tandem::storage {

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

std::unique_ptr<wal_checkpointer> wal_checkpointer::start(sqlite3* writer, const std::string& path,
                                                          const wal_checkpoint_options& options,
                                                          std::string& error) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_ptr own(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    error = "cannot open a checkpoint connection to " + path + ": " +
            (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return nullptr;
  }
  // A checkpoint's fsyncs follow the checkpointing connection's setting: the writer's. (Closing
  // this connection never checkpoints: SQLite does that only for the last one, the writer.)
  std::string pragmas = "PRAGMA synchronous=" + options.synchronous;
  if (!exec(own.get(), pragmas.c_str(), error)) return nullptr;
  // A first read opens the WAL on this connection (a checkpoint on a connection that has read
  // nothing yet may find no WAL to copy); the mode is the writer's, kept in the file.
  {
    auto st = prepare(own.get(), "PRAGMA journal_mode", error);
    if (!st) return nullptr;
    if (!exec(own.get(), "SELECT count(*) FROM sqlite_master", error)) return nullptr;
    std::string mode = sqlite3_step(st.get()) == SQLITE_ROW ? column_text(st.get(), 0) : "";
    if (mode != "wal") {
      error = path + " is not in WAL mode (" + mode + "): nothing to checkpoint";
      return nullptr;
    }
  }
  std::unique_ptr<wal_checkpointer> c(new wal_checkpointer(writer, std::move(own), options));
  c->thread_ = std::thread([p = c.get()] { p->run(); });
  sqlite3_wal_hook(writer, &wal_checkpointer::on_commit, c.get());
  return c;
}

wal_checkpointer::wal_checkpointer(sqlite3* writer, db_ptr own,
                                   const wal_checkpoint_options& options)
    : writer_(writer), own_(std::move(own)), options_(options) {
  if (options_.threshold_frames < 1) options_.threshold_frames = 1;
  if (options_.backstop_frames < options_.threshold_frames)
    options_.backstop_frames = options_.threshold_frames;
}

wal_checkpointer::~wal_checkpointer() {
  // The writer's commits stop calling this object before it goes.
  sqlite3_wal_autocheckpoint(writer_, 1000);
  {
    std::lock_guard<std::mutex> g(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int wal_checkpointer::on_commit(void* self, sqlite3* db, const char* name, int frames) {
  // On the writer's thread, right after its commit: the write lock is released, so a checkpoint
  // started now has the whole gap until the next commit to copy everything, after which the
  // writer's next transaction restarts the WAL.
  auto* c = static_cast<wal_checkpointer*>(self);
  bool wake = false;
  {
    std::lock_guard<std::mutex> g(c->mutex_);
    c->stats_.wal_frames = frames;
    if (frames >= c->options_.backstop_frames) {
      ++c->stats_.inline_;
    } else if (frames >= c->options_.threshold_frames && !c->wanted_ && !c->running_) {
      c->wanted_ = true; // while one runs, the next commit asks again if need be
      wake = true;
    }
  }
  if (wake) c->wake_.notify_one();
  if (frames >= c->options_.backstop_frames) {
    // PASSIVE: a checkpoint the thread is running makes this one return at once (SQLITE_BUSY).
    int log = 0, done = 0;
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  }
  return SQLITE_OK;
}

void wal_checkpointer::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return wanted_ || stop_; });
    if (stop_) break;
    wanted_ = false;
    running_ = true;
    lock.unlock();
    auto t = std::chrono::steady_clock::now();
    int log = 0, done = 0;
    // Errors (SQLITE_BUSY while the backstop runs, an I/O error) leave the WAL as it is: the
    // writer's next commits ask again, and the backstop bounds the WAL.
    sqlite3_wal_checkpoint_v2(own_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    double took = ms_since(t);
    lock.lock();
    running_ = false;
    ++stats_.background;
    stats_.last_ms = took;
    if (took > stats_.max_ms) stats_.max_ms = took;
    idle_.notify_all();
  }
}

wal_checkpoint_stats wal_checkpointer::stats() const {
  std::lock_guard<std::mutex> g(mutex_);
  return stats_;
}

bool wal_checkpointer::wait_idle(int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [this] { return !wanted_ && !running_; });
}

} // namespace tandem::storage

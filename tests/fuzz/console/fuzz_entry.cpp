#include "tests/fuzz/console/fuzz_entry.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/console.hpp"
#include "actors/supervisor.hpp"
#include "messages/messages.hpp"
#include "storage/event_store.hpp"

namespace tandem::console_fuzz {

namespace {

class peer : public console_peer {
public:
  uint64_t id() const override { return 1; }
  void send(std::string line) override {
    std::lock_guard<std::mutex> g(m_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> g(m_);
    return std::move(lines_);
  }

private:
  std::mutex m_;
  std::vector<std::string> lines_;
};

[[noreturn]] void finding(const std::string& what, const std::string& line) {
  std::fprintf(stderr, "console fuzz: %s\n  line: %s\n", what.c_str(), line.c_str());
  std::abort();
}

/// One CAF system on the test coordinator, made once (making it per input would dominate).
struct world {
  world()
      : sys(prepare(cfg)), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    char tmpl[] = "/tmp/tandem-console-fuzz-XXXXXX";
    dir = ::mkdtemp(tmpl) ? tmpl : "/tmp";
    std::string why, notice;
    events = storage::event_store::open(dir + "/events.db", why, notice);
    if (!events) finding("cannot open the event store: " + why, "");
  }
  static caf::actor_system_config& prepare(caf::actor_system_config& c) {
    c.set("scheduler.policy", caf::atom("testing"));
    return c;
  }
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::string dir;
  std::shared_ptr<storage::event_store> events;
};

world& the_world() {
  // Never destroyed: actors of the last input may still hold it when the process exits.
  static world* w = new world;
  return *w;
}

} // namespace

void run_one(const uint8_t* data, size_t size) {
  auto& w = the_world();
  config::node_config c;
  c.node.name = "fuzz";
  c.debug.fault_injection = true;
  config::pair_section p;
  p.alias = "line1";
  p.primary = "opc.tcp://h1:4840";
  p.secondary = "opc.tcp://h2:4840";
  c.pairs.push_back(p);
  node_runtime rt;
  rt.events = w.events;
  rt.wall_now = [] { return int64_t{1'767'225'600'000}; };
  // A restarted CONSOLE (an injected fault may fail it) is attached here too, even late.
  auto con_ptr = std::make_shared<console_actor>();
  rt.attach_console = [con_ptr](const console_actor& a) { *con_ptr = a; };
  auto node = w.sys.spawn(supervisor, c, rt);
  w.sched.run();
  if (!*con_ptr) finding("no console actor", "");
  auto who = std::make_shared<peer>();
  caf::scoped_actor self{w.sys};
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  for (int n = 0; n < 64 && pos <= text.size(); ++n) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    self->send(*con_ptr, console_request{who, line});
    w.sched.run();
    auto replies = who->take();
    // Anything waiting on a timer (a stalled actor, a request's deadline) gets its answer.
    for (int i = 0; i < 10 && replies.empty(); ++i) {
      w.sched.advance_time(std::chrono::seconds(15));
      w.sched.run();
      replies = who->take();
    }
    if (replies.empty()) finding("no reply", line);
    for (const auto& r : replies) {
      auto j = nlohmann::json::parse(r, nullptr, false);
      if (j.is_discarded() || !j.is_object())
        finding("a reply that is not a JSON object: " + r, line);
    }
  }
  // Replies that came late are checked too.
  self->send(node, atom::shutdown_v);
  w.sched.run();
  w.sched.advance_time(std::chrono::seconds(30));
  w.sched.run();
  (void)who->take();
}

} // namespace tandem::console_fuzz

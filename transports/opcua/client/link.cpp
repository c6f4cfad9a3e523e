#include "transports/opcua/client/link.hpp"

#include <algorithm>
#include <mutex>
#include <set>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "transports/opcua/client/data_changes.hpp"
#include "transports/opcua/client/subscription.hpp"
#include "transports/opcua/node_ids.hpp"

namespace tandem::opcua {

namespace asio = boost::asio;

namespace {

/// State shared by the link's handlers; lives as long as any of them.
struct ua_link_state : std::enable_shared_from_this<ua_link_state> {
  client_channel::strand_type strand;
  ua_link_options opts;
  std::shared_ptr<link_events> events;
  std::shared_ptr<ua_client> client;
  std::shared_ptr<publisher> pub;
  uint64_t generation = 0;
  uint32_t subscription_id = 0;
  bool subscription_pending = false;
  double keep_alive_ms = 0; ///< the subscription's revised keep-alive period
  bool session_up = false;  ///< connect() succeeded and the connection was not lost since
  std::vector<std::pair<std::vector<item_spec>, double>>
      waiting;                           ///< monitor() before the subscription
  std::map<uint32_t, uint32_t> item_ids; ///< owner handle -> monitored item id
  /// Handles unmonitored while their creation was under way: deleted once created.
  std::set<uint32_t> unwanted;
  /// The monitoring mode the owner last asked for, per handle: a set_mode() that comes while
  /// the items are still being created is applied when they exist.
  std::map<uint32_t, monitoring_mode> wanted_mode;
  /// The server's NamespaceArray, read before the link reports up; read by forwarders from
  /// other threads.
  mutable std::mutex ns_mutex;
  std::shared_ptr<const std::vector<std::string>> namespaces;

  void set_namespaces(std::shared_ptr<const std::vector<std::string>> ns) {
    std::lock_guard<std::mutex> lock(ns_mutex);
    namespaces = std::move(ns);
  }
  std::shared_ptr<const std::vector<std::string>> current_namespaces() const {
    std::lock_guard<std::mutex> lock(ns_mutex);
    return namespaces;
  }

  /// An item's NodeId on this server: "nsu=URI;..." names the namespace by URI (how the face
  /// asks for items when two servers order their namespaces differently).
  result<NodeId> resolve(const std::string& text) const {
    if (text.rfind("nsu=", 0) != 0) return NodeId::parse(text);
    auto x = ExpandedNodeId::parse(text);
    if (!x) return x.error();
    NodeId node = x->node_id;
    auto ns = current_namespaces();
    node.namespace_index = 0xFFFF; // unknown here: the server answers BadNodeIdUnknown
    if (ns)
      for (size_t i = 0; i < ns->size() && i < 0xFFFF; ++i)
        if ((*ns)[i] == x->namespace_uri.str()) node.namespace_index = static_cast<uint16_t>(i);
    return node;
  }

  explicit ua_link_state(client_channel::strand_type s) : strand(std::move(s)) {}

  void reset() {
    if (pub) pub->stop();
    pub.reset();
    client.reset();
    subscription_id = 0;
    subscription_pending = false;
    session_up = false;
    set_namespaces(nullptr);
    waiting.clear();
    item_ids.clear();
    unwanted.clear();
    wanted_mode.clear(); // the owner gives every item's mode again with the next connection
  }

  void report_down(uint64_t gen, const error& e) {
    if (gen != generation) return;
    reset();
    events->down(link_down{gen, e.code.value, e.reason});
  }

  void connect(uint64_t gen) {
    if (client) client->disconnect(nullptr);
    reset();
    generation = gen;
    client_options co;
    co.url = opts.url;
    co.user = opts.user;
    co.password = opts.password;
    co.session_name = opts.session_name;
    co.request_timeout = opts.request_timeout;
    co.channel.connect_timeout = opts.connect_timeout;
    client = ua_client::create(strand, co);
    auto self = shared_from_this();
    client->set_lost_handler([self, gen](const error& e) { self->report_down(gen, e); });
    client->connect([self, gen](const error* e) {
      if (gen != self->generation) return;
      if (e) return self->report_down(gen, *e);
      self->read_namespaces(gen);
    });
  }

  /// Reads the NamespaceArray, then reports up (without it when the server will not say).
  void read_namespaces(uint64_t gen) {
    ReadRequest req;
    ReadValueId ns;
    ns.node_id = NodeId(node_ids::Server_NamespaceArray);
    req.nodes_to_read.push_back(ns);
    req.timestamps_to_return = TimestampsToReturn::Neither;
    auto self = shared_from_this();
    client->call<ReadResponse>(std::move(req), [self, gen](result<ReadResponse> r) {
      if (gen != self->generation || !self->client) return;
      if (r && r->results.size() == 1 && r->results[0].value) {
        if (auto* a = r->results[0].value->get_if<Array<String>>()) {
          auto uris = std::make_shared<std::vector<std::string>>();
          for (const auto& u : *a)
            uris->push_back(u.str());
          self->set_namespaces(std::move(uris));
        }
      }
      self->session_up = true;
      self->events->up(link_up{gen});
    });
  }

  void poll_status(uint64_t gen, uint64_t poll) {
    if (gen != generation || !client) return;
    ReadRequest req;
    ReadValueId state, level;
    state.node_id = NodeId(2259);
    level.node_id = NodeId(2267);
    req.nodes_to_read.push_back(state);
    req.nodes_to_read.push_back(level);
    req.timestamps_to_return = TimestampsToReturn::Neither;
    auto self = shared_from_this();
    client->call<ReadResponse>(std::move(req), [self, gen, poll](result<ReadResponse> r) {
      if (gen != self->generation) return;
      status_reply rep;
      rep.generation = gen;
      rep.poll = poll;
      if (!r) {
        // A read that died with the connection or went unanswered says nothing about the server's
        // health: the down report or the actor's own poll timeout speaks for it.
        auto code = r.error().code.code();
        if (code == status::BadConnectionClosed.code() || code == status::BadNotConnected.code() ||
            code == status::BadTimeout.code() || code == status::BadCommunicationError.code())
          return;
        rep.ok = false;
        rep.status = r.error().code.value;
        rep.reason = r.error().reason;
      } else if (r->results.size() != 2) {
        rep.ok = false;
        rep.status = status::BadUnexpectedError.value;
        rep.reason = "the status read returned " + std::to_string(r->results.size()) + " values";
      } else {
        rep.ok = true;
        auto& st = r->results[0];
        if (st.value) {
          if (auto* i = st.value->get_if<int32_t>())
            rep.server_state = *i;
          else if (auto* u = st.value->get_if<uint32_t>())
            rep.server_state = static_cast<int32_t>(*u);
        }
        auto& sl = r->results[1];
        if (sl.value) {
          if (auto* b = sl.value->get_if<uint8_t>()) rep.service_level = *b;
        }
      }
      self->events->status(std::move(rep));
    });
  }

  void monitor(uint64_t gen, std::vector<item_spec> items, double publishing_ms) {
    if (gen != generation || !client) return;
    if (subscription_id == 0) {
      waiting.emplace_back(std::move(items), publishing_ms);
      if (!subscription_pending) create_subscription(gen, publishing_ms);
      return;
    }
    create_items(gen, std::move(items));
  }

  void create_subscription(uint64_t gen, double publishing_ms) {
    subscription_pending = true;
    CreateSubscriptionRequest req;
    req.requested_publishing_interval = publishing_ms;
    req.requested_max_keep_alive_count = keep_alive_count;
    req.requested_lifetime_count = 60;
    req.publishing_enabled = true;
    auto self = shared_from_this();
    client->call<CreateSubscriptionResponse>(
        std::move(req), [self, gen](result<CreateSubscriptionResponse> r) {
          if (gen != self->generation) return;
          self->subscription_pending = false;
          if (!r) return self->fail_waiting(gen, r.error());
          self->subscription_id = r->subscription_id;
          self->keep_alive_ms = r->revised_publishing_interval * r->revised_max_keep_alive_count;
          auto timeout = std::chrono::milliseconds(std::max<int64_t>(
              10000, static_cast<int64_t>(r->revised_publishing_interval *
                                          (r->revised_max_keep_alive_count + 1) * 3)));
          self->pub = publisher::create(
              self->client, self->opts.publish_pipeline, timeout,
              [self, gen](uint32_t, NotificationMessage& m) { self->on_notification(gen, m); },
              [self, gen](const error& e) {
                // Publishing cannot go on (no subscription, session gone): treat as a lost
                // connection.
                self->report_down(gen, e);
              });
          self->pub->on_keep_alive([self, gen](uint32_t) {
            if (gen != self->generation) return;
            data_batch keep_alive;
            keep_alive.generation = gen;
            keep_alive.keep_alive_ms = self->keep_alive_ms;
            self->events->data(std::move(keep_alive));
          });
          self->pub->start();
          auto queued = std::move(self->waiting);
          self->waiting.clear();
          for (auto& w : queued)
            self->create_items(gen, std::move(w.first));
        });
  }

  void fail_waiting(uint64_t gen, const error& e) {
    auto queued = std::move(waiting);
    waiting.clear();
    for (auto& w : queued) {
      items_created rep;
      rep.generation = gen;
      for (auto& it : w.first) {
        rep.handles.push_back(it.handle);
        rep.results.push_back(e.code.value);
      }
      events->items(std::move(rep));
    }
  }

  void create_items(uint64_t gen, std::vector<item_spec> items) {
    // Items already on the server keep their monitored item.
    items.erase(std::remove_if(items.begin(), items.end(),
                               [&](const item_spec& s) { return item_ids.count(s.handle) > 0; }),
                items.end());
    for (size_t start = 0; start < items.size(); start += opts.max_items_per_call) {
      size_t end = std::min(items.size(), start + opts.max_items_per_call);
      CreateMonitoredItemsRequest req;
      req.subscription_id = subscription_id;
      req.timestamps_to_return = TimestampsToReturn::Both;
      items_created rep;
      rep.generation = gen;
      std::vector<uint32_t> bad;
      for (size_t i = start; i < end; ++i) {
        auto& s = items[i];
        auto node = resolve(s.node_id);
        if (!node) {
          rep.handles.push_back(s.handle);
          rep.results.push_back(status::BadNodeIdInvalid.value);
          continue;
        }
        MonitoredItemCreateRequest r;
        r.item_to_monitor.node_id = *node;
        auto wanted = wanted_mode.find(s.handle);
        if (wanted != wanted_mode.end()) s.mode = wanted->second;
        r.monitoring_mode = static_cast<MonitoringMode>(static_cast<int32_t>(s.mode));
        r.requested_parameters.client_handle = s.handle;
        r.requested_parameters.sampling_interval = s.sampling_ms;
        r.requested_parameters.queue_size = s.queue_size;
        r.requested_parameters.discard_oldest = true;
        req.items_to_create.push_back(std::move(r));
      }
      auto self = shared_from_this();
      client->call<CreateMonitoredItemsResponse>(
          std::move(req),
          [self, gen, rep = std::move(rep),
           handles = std::vector<item_spec>(items.begin() + static_cast<std::ptrdiff_t>(start),
                                            items.begin() + static_cast<std::ptrdiff_t>(end))](
              result<CreateMonitoredItemsResponse> r) mutable {
            if (gen != self->generation) return;
            size_t k = 0;
            for (auto& s : handles) {
              if (std::find(rep.handles.begin(), rep.handles.end(), s.handle) != rep.handles.end())
                continue;
              rep.handles.push_back(s.handle);
              if (!r) {
                rep.results.push_back(r.error().code.value);
              } else if (k < r->results.size()) {
                auto& res = r->results[k];
                rep.results.push_back(res.status_code.value);
                if (!res.status_code.is_bad()) self->item_ids[s.handle] = res.monitored_item_id;
              } else {
                rep.results.push_back(status::BadUnexpectedError.value);
              }
              ++k;
            }
            self->events->items(std::move(rep));
            // Items unmonitored while they were being created.
            if (!self->unwanted.empty()) {
              std::vector<uint32_t> late;
              for (auto& s : handles)
                if (self->unwanted.erase(s.handle) > 0)
                  if (auto it = self->item_ids.find(s.handle); it != self->item_ids.end()) {
                    late.push_back(it->second);
                    self->item_ids.erase(it);
                  }
              self->delete_ids(std::move(late));
            }
            // Modes asked for while the items were being created.
            std::map<monitoring_mode, std::vector<uint32_t>> changed;
            for (auto& s : handles) {
              auto w = self->wanted_mode.find(s.handle);
              if (w != self->wanted_mode.end() && w->second != s.mode &&
                  self->item_ids.count(s.handle))
                changed[w->second].push_back(s.handle);
            }
            for (auto& [mode, hs] : changed)
              self->set_mode(gen, std::move(hs), mode);
          });
    }
  }

  void unmonitor(uint64_t gen, const std::vector<uint32_t>& handles) {
    if (gen != generation || !client) return;
    std::set<uint32_t> gone(handles.begin(), handles.end());
    for (auto& w : waiting) // not asked for yet: never will be
      w.first.erase(std::remove_if(w.first.begin(), w.first.end(),
                                   [&](const item_spec& s) { return gone.count(s.handle) > 0; }),
                    w.first.end());
    std::vector<uint32_t> ids;
    for (auto h : handles) {
      wanted_mode.erase(h);
      if (auto it = item_ids.find(h); it != item_ids.end()) {
        ids.push_back(it->second);
        item_ids.erase(it);
      } else if (subscription_id != 0) {
        unwanted.insert(h); // maybe being created now
      }
    }
    delete_ids(std::move(ids));
  }

  /// DeleteMonitoredItems in calls of at most max_items_per_call. A refusal leaves an item on
  /// the server whose changes nobody takes: harmless, and gone with the session.
  void delete_ids(std::vector<uint32_t> ids) {
    size_t per_call = std::max<size_t>(1, opts.max_items_per_call);
    for (size_t start = 0; start < ids.size(); start += per_call) {
      DeleteMonitoredItemsRequest req;
      req.subscription_id = subscription_id;
      for (size_t i = start; i < std::min(ids.size(), start + per_call); ++i)
        req.monitored_item_ids.push_back(ids[i]);
      client->call<DeleteMonitoredItemsResponse>(std::move(req),
                                                 [](result<DeleteMonitoredItemsResponse>) {});
    }
  }

  void set_mode(uint64_t gen, std::vector<uint32_t> handles, monitoring_mode mode) {
    if (gen != generation || !client) return;
    for (auto h : handles)
      wanted_mode[h] = mode;
    if (subscription_id == 0) return; // applied when the items are created
    // Handles whose items do not exist yet get their mode when they are created.
    handles.erase(std::remove_if(handles.begin(), handles.end(),
                                 [&](uint32_t h) { return item_ids.count(h) == 0; }),
                  handles.end());
    // As many items per SetMonitoringMode as per CreateMonitoredItems: a server refuses a call
    // over its MaxMonitoredItemsPerCall (BadTooManyOperations).
    size_t per_call = std::max<size_t>(1, opts.max_items_per_call);
    for (size_t start = 0; start < handles.size(); start += per_call) {
      size_t end = std::min(handles.size(), start + per_call);
      send_mode(gen,
                std::vector<uint32_t>(handles.begin() + static_cast<std::ptrdiff_t>(start),
                                      handles.begin() + static_cast<std::ptrdiff_t>(end)),
                mode);
    }
  }

  /// One SetMonitoringMode for `handles` (items that exist on the server).
  void send_mode(uint64_t gen, std::vector<uint32_t> handles, monitoring_mode mode) {
    SetMonitoringModeRequest req;
    req.subscription_id = subscription_id;
    req.monitoring_mode = static_cast<MonitoringMode>(static_cast<int32_t>(mode));
    for (auto h : handles) {
      auto it = item_ids.find(h);
      if (it != item_ids.end()) req.monitored_item_ids.push_back(it->second);
    }
    if (req.monitored_item_ids.empty()) return;
    auto self = shared_from_this();
    client->call<SetMonitoringModeResponse>(
        std::move(req), [self, gen, handles = std::move(handles),
                         mode](result<SetMonitoringModeResponse> r) mutable {
          if (r || gen != self->generation || !self->client) return;
          auto code = r.error().code.code();
          if (code == status::BadTimeout.code()) return;
          // A server with a lower limit than ours: halves, for the items whose mode is still
          // the one asked for (a later set_mode may have changed it meanwhile). Refused by the
          // server, the call does not mean the session is gone.
          if (code == status::BadTooManyOperations.code()) {
            handles.erase(std::remove_if(handles.begin(), handles.end(),
                                         [&](uint32_t h) {
                                           auto w = self->wanted_mode.find(h);
                                           return w == self->wanted_mode.end() || w->second != mode;
                                         }),
                          handles.end());
            if (handles.empty()) return;
            if (handles.size() > 1) {
              size_t half = handles.size() / 2;
              self->send_mode(
                  gen,
                  std::vector<uint32_t>(handles.begin(),
                                        handles.begin() + static_cast<std::ptrdiff_t>(half)),
                  mode);
              self->send_mode(
                  gen,
                  std::vector<uint32_t>(handles.begin() + static_cast<std::ptrdiff_t>(half),
                                        handles.end()),
                  mode);
              return;
            }
          }
          self->report_down(gen, r.error());
        });
  }

  void on_notification(uint64_t gen, NotificationMessage& m) {
    if (gen != generation) return;
    data_batch batch;
    batch.generation = gen;
    batch.keep_alive_ms = keep_alive_ms;
    // Data changes only (status changes and events are not data); one that does not decode is
    // skipped whole.
    for (auto& eo : m.notification_data)
      append_data_changes(eo, batch.updates);
    // Also a keep-alive (no data): the owner hears that the server still publishes.
    events->data(std::move(batch));
  }
};

/// Forwards on the link's strand to its session of the moment.
class ua_forwarder : public request_forwarder {
public:
  explicit ua_forwarder(std::weak_ptr<ua_link_state> st) : st_(std::move(st)) {}
  void forward(Request req, std::function<void(Response)> done) override {
    uint32_t handle = request_header(req).request_handle;
    auto fail = [handle](StatusCode sc) {
      ServiceFault f;
      f.response_header.request_handle = handle;
      f.response_header.timestamp = DateTime::now();
      f.response_header.service_result = sc;
      return Response(std::move(f));
    };
    auto st = st_.lock();
    if (!st) return done(fail(status::BadNoCommunication));
    asio::post(st->strand, [st, req = std::move(req), done = std::move(done), fail]() mutable {
      if (!st->client || !st->session_up) return done(fail(status::BadNoCommunication));
      st->client->send_raw(std::move(req), [done = std::move(done), fail](result<Response> r) {
        if (!r) return done(fail(r.error().code));
        done(std::move(*r));
      });
    });
  }

  std::shared_ptr<const std::vector<std::string>> namespaces() const override {
    auto st = st_.lock();
    return st ? st->current_namespaces() : nullptr;
  }

private:
  std::weak_ptr<ua_link_state> st_;
};

class ua_link : public server_link {
public:
  ua_link(asio::io_context& io, ua_link_options opts, std::shared_ptr<link_events> events)
      : st_(std::make_shared<ua_link_state>(asio::make_strand(io))) {
    st_->opts = std::move(opts);
    st_->events = std::move(events);
  }
  ~ua_link() override { disconnect(); }

  void connect(uint64_t generation) override {
    asio::post(st_->strand, [st = st_, generation] { st->connect(generation); });
  }
  void disconnect() override {
    asio::post(st_->strand, [st = st_] {
      ++st->generation; // nothing of the old connection is reported any more
      if (st->client) st->client->disconnect(nullptr);
      st->reset();
    });
  }
  void drop() override {
    asio::post(st_->strand, [st = st_] {
      if (st->client)
        st->client->channel()->abort(
            error{status::BadConnectionClosed, "connection dropped (injected fault)"});
    });
  }
  void poll_status(uint64_t generation, uint64_t poll) override {
    asio::post(st_->strand, [st = st_, generation, poll] { st->poll_status(generation, poll); });
  }
  void monitor(uint64_t generation, std::vector<item_spec> items, double publishing_ms) override {
    asio::post(st_->strand,
               [st = st_, generation, items = std::move(items), publishing_ms]() mutable {
                 st->monitor(generation, std::move(items), publishing_ms);
               });
  }
  void set_mode(uint64_t generation, std::vector<uint32_t> handles, monitoring_mode mode) override {
    asio::post(st_->strand, [st = st_, generation, handles = std::move(handles), mode]() mutable {
      st->set_mode(generation, std::move(handles), mode);
    });
  }

  void unmonitor(uint64_t generation, std::vector<uint32_t> handles) override {
    asio::post(st_->strand, [st = st_, generation, handles = std::move(handles)] {
      st->unmonitor(generation, handles);
    });
  }

  std::shared_ptr<request_forwarder> forwarder() override {
    return std::make_shared<ua_forwarder>(st_);
  }

private:
  std::shared_ptr<ua_link_state> st_;
};

} // namespace

std::unique_ptr<server_link> make_ua_link(asio::io_context& io, ua_link_options opts,
                                          std::shared_ptr<link_events> events) {
  return std::make_unique<ua_link>(io, std::move(opts), std::move(events));
}

} // namespace tandem::opcua

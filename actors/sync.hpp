#pragma once
/// SYNC: replicates history, alarms and diagnostics events between the two nodes of a pair, on
/// SYNC channel 2 of the partner link (wire format: transports/partner/sync_codec.hpp).
///
///   partner_up ──▶ HELLO both ways (version range) ──▶ own marks from HISTORY, ALARMS,
///   DIAGNOSTICS ──▶ PULL each kind from the partner, page by page ──▶ merged here ──▶ synced
///
/// Anti-entropy: each side asks the other for what lies above its own marks (the highest stamp
/// it holds per origin node) and merges it; the same mechanism is the full sync of an empty
/// Standby, the catch-up after a reconnect and the merge after a split brain, and it compares
/// epochs, never roles: rows are only ever added (history, events) or joined by a commutative
/// rule (alarms), so a node whose data is older or empty cannot overwrite newer data.
///
/// While paging, the cursor is the one the pages received make (not the store's marks, which a
/// merge raises to the highest stamp inserted). Exactly one merge per kind is outstanding at a
/// time, so a merge that fails leaves nothing merged after it; what the partner pushes live while
/// a pull of that kind runs is kept aside (at most `max_live_buffer`, else dropped and pulled
/// again) and merged once the pull is complete, so the store's marks never pass a row not yet
/// held. Then incremental: every row, alarm change and event this node stamps is pushed to the
/// partner as it is stamped (listener subscriptions), and the partner's are merged here.
///
/// Client items: the items this node's clients watch through a pair go to the partner (ITEMS) as
/// they begin, and when no client here has watched one for the pair's linger (GONE, to a
/// partner offering version 3); each link-up sends the whole set again, then ITEMS_END, after
/// which the partner forgets what it had been told and was not in the set. So the partner
/// ends up watching exactly this node's set, whatever happened while the link was down. Only
/// this node's clients' items are sent, never what it watches for the partner, so nothing is
/// echoed and two nodes never keep an item for each other.
///
/// Status (console `node`): not_synced, syncing, synced. Events: sync_started, sync_done,
/// sync_failed, sync_refused (docs/EVENTS.md).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "transports/partner/sync_codec.hpp"

namespace tandem {

struct sync_config {
  std::string node_name;
  history_actor history;         ///< null: this node keeps no history (nothing pulled or served)
  alarms_actor alarms;           ///< null: no alarms
  diagnostics_actor diagnostics; ///< events are replicated; SYNC's own events go here
  /// History rows and events asked for per page, and a page's encoded size at most.
  uint64_t page_rows = 10000;
  size_t max_page_bytes = 4u * 1024 * 1024;
  /// Items the partner pushes while a pull of their kind runs, kept to merge after it.
  size_t max_live_buffer = 200000;
  /// A pull the partner has not answered this long fails (and is tried again).
  caf::timespan pull_timeout = std::chrono::seconds(30);
  /// After a failed pull, the next try.
  caf::timespan retry_delay = std::chrono::seconds(5);
  /// Requests to HISTORY, ALARMS and DIAGNOSTICS.
  caf::timespan local_timeout = std::chrono::seconds(60);
  std::function<int64_t()> wall_now; ///< Unix ms; tests give a virtual clock
  /// Benchmarks: called when a batch of live items of kind k (0 history, 1 alarms, 2 events)
  /// was merged here, with the highest history stamp in it. Empty in the node.
  std::function<void(size_t k, const data_epoch& newest)> on_live_merged;
  /// Where the partner's client items go (the SUPERVISOR routes them to the PAIRs); null: dropped.
  item_set_listener_actor items_owner;
  /// Item NodeIds per ITEMS message at most (by encoded size).
  size_t max_items_bytes = 256 * 1024;
  caf::actor_addr parent; ///< the SUPERVISOR; SYNC ends with it
};

struct sync_state {
  static constexpr size_t kinds = 3; ///< history, alarms, events (data_kind - 1)

  /// One kind of data: its pull (this node asking), its merges and the live items waiting.
  struct lane {
    bool absent = false;   ///< this node has no such store
    bool marks_in = false; ///< own marks read this session
    bool pulling = false;  ///< the pull of this session is under way
    bool received = false; ///< the last page arrived (more = false)
    bool done = false;     ///< pull complete and merged: live items are merged at once
    uint64_t request = 0;  ///< the PULL waiting for its page (0: none)
    std::map<std::string, data_epoch> cursor;
    /// Pages received and not merged yet (at most two: the next PULL waits for room).
    std::vector<partner::sync::sync_message> pages;
    bool merging = false; ///< a merge of this kind is outstanding (maybe of an older session)
    uint64_t merging_session = 0;
    /// Live items: kept aside while pulling, else waiting for the merge in progress.
    partner::sync::sync_message live;
    size_t live_count = 0;
    bool overflow = false; ///< live items were dropped during this pull: pull again after it
    uint64_t pulled = 0;   ///< items received by the pull of this session
    uint64_t merged = 0;   ///< of them, new here
  };

  sync_config cfg;
  sync_link_actor link;
  bool up = false;
  bool peer_ok = false;      ///< the partner's HELLO offered a version this node speaks
  uint8_t peer_max = 0;      ///< the newest version the partner's HELLO offered
  bool refused_sent = false; ///< a REFUSE went to the partner in this session
  std::string peer;
  std::string role;     ///< this node's state, as the ELECTION last said
  uint64_t session = 0; ///< numbers link sessions; replies of older ones are ignored
  uint64_t next_request = 0;
  std::array<lane, kinds> lanes;
  /// This node's clients' items per pair (told to the partner).
  std::map<std::string, std::set<std::string>> own_items;
  /// The partner's clients' items per pair, each with the `partner_gen` it was last told in.
  std::map<std::string, std::map<std::string, uint64_t>> partner_items;
  /// Counts the partner's whole sets: one begins with each HELLO of a version-3 partner and
  /// ends with its ITEMS_END. 0 marks items not told in any (a restarted SYNC's seed).
  uint64_t partner_gen = 0;
  bool collecting = false; ///< the partner's whole set is arriving
  uint64_t collected = 0;  ///< NodeIds of it received so far
  int complaints = 0;      ///< bad messages reported this session (at most a few)
  int failures = 0;        ///< failed pulls in a row (the retry backs off)
  caf::actor_clock::time_point started{};
  sync_status status;

  void start_session(const std::string& partner);
  void end_session(const std::string& why);
  /// (Re)starts the pulls of this session: own marks first.
  void begin_pulls();
  void maybe_pull();
  void send_pull(size_t k);
  void on_payload(sync_payload& p);
  void on_hello(const partner::sync::sync_message& m);
  void serve(const partner::sync::sync_message& m);
  void on_page(partner::sync::sync_message&& m);
  void on_live(partner::sync::sync_message&& m);
  /// Starts the next merge of kind k if none is outstanding.
  void pump(size_t k);
  void merged(size_t k, uint64_t s, bool page, bool ok, uint64_t n, const std::string& error,
              int64_t newest_recorded_ms, data_epoch newest_stamp);
  void lane_complete(size_t k);
  void check_done();
  void fail(const std::string& why);
  void push(std::vector<uint8_t> bytes);
  void push_rows(const std::vector<history_row>& rows);
  void push_alarms(const std::vector<alarm>& alarms);
  void push_event(const diag_event& e);
  /// Whether the partner reads ITEMS (version 2 on).
  bool items_ok() const { return up && peer_ok && peer_max >= partner::sync::items_version; }
  /// Whether the partner reads GONE and ITEMS_END (version 3 on).
  bool gone_ok() const { return up && peer_ok && peer_max >= partner::sync::gone_version; }
  void push_items(const std::string& pair, const std::vector<std::string>& node_ids);
  void push_gone(const std::string& pair, const std::vector<std::string>& node_ids);
  /// New items of this node's clients (or, partner = true, what the faces watch for the partner:
  /// the seed of a restarted SYNC).
  void add_items(item_set& s);
  /// Items this node's clients no longer watch.
  void drop_items(item_drop& d);
  /// The partner's ITEMS, GONE and ITEMS_END.
  void on_items(partner::sync::sync_message&& m);
  void on_gone(partner::sync::sync_message&& m);
  void on_items_end(const partner::sync::sync_message& m);
  /// Tells the items owner that the partner's clients no longer watch `node_ids` of `pair`.
  void forget_theirs(const std::string& pair, std::vector<std::string>&& node_ids);
  void report(severity sev, const std::string& kind, const std::string& text);
  sync_status snapshot() const;

  sync_actor::pointer self = nullptr;
  static inline const char* name = "sync";
};

sync_actor::behavior_type sync(sync_actor::stateful_pointer<sync_state> self, sync_config cfg);

} // namespace tandem

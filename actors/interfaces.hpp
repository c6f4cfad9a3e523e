#pragma once
/// Every actor handle of a Tandem node, as a typed interface: a message sent to the wrong actor
/// fails to compile. Messages an actor sends itself are marked INTERNAL.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "messages/messages.hpp"

namespace tandem {

/// Anything that wants new diagnostics events as they are recorded (the CONSOLE for `--follow`,
/// the NOTIFIER, later the status page).
using event_listener_actor = caf::typed_actor<caf::reacts_to<diag_event>>;

/// The DIAGNOSTICS actor keeps the ring buffer of events and persists each one.
using diagnostics_actor = caf::typed_actor<
    // Records an event; DIAGNOSTICS stamps sequence number, time and node.
    caf::reacts_to<event_report>,
    // Answers the newest N events, oldest first (after committing what is pending).
    caf::replies_to<atom::events, uint64_t>::with<std::vector<diag_event>>,
    // Adds or removes a listener that receives every new event.
    caf::reacts_to<atom::subscribe, event_listener_actor>,
    caf::reacts_to<atom::unsubscribe, event_listener_actor>,
    // Commits pending events now; answers the highest committed sequence number.
    caf::replies_to<atom::flush>::with<uint64_t>,
    // SYNC: the highest seq held per origin node (after committing).
    caf::replies_to<atom::marks>::with<std::vector<origin_mark>>,
    // SYNC: the events a node holding these marks lacks, at most N, ascending per origin.
    caf::replies_to<atom::export_rows, std::vector<origin_mark>, uint64_t>::with<event_rows>,
    // SYNC: records the partner's events (idempotent, told to no listener); answers how many
    // were new.
    caf::replies_to<atom::merge, std::vector<diag_event>>::with<uint64_t>,
    // Answers how many events were recorded since it started, by severity (/metrics).
    caf::replies_to<atom::status>::with<event_counts>,
    // Applies an injected fault (stall_actor, fail_storage_write); answers "" or an error.
    caf::replies_to<fault>::with<std::string>,
    // INTERNAL: commit the batch gathered so far.
    caf::reacts_to<atom::commit>,
    // INTERNAL: retry a failed commit.
    caf::reacts_to<atom::retry>,
    // INTERNAL: an injected stall is over.
    caf::reacts_to<atom::stall_end>>;

/// Whoever wants HISTORY's values as they are stamped, before they are committed (SYNC, for
/// incremental replication: the partner merges them as they come).
using history_listener_actor =
    caf::typed_actor<caf::reacts_to<atom::history, std::vector<history_row>>>;

/// Whoever wants every alarm as it changes here (raised, cleared, acknowledged, merged): SYNC.
using alarm_listener_actor = caf::typed_actor<caf::reacts_to<atom::alarms, std::vector<alarm>>>;

/// HISTORY records the value changes of the items clients and monitors subscribe to through the
/// node's pairs, each stamped with this node's name and (term, seq), commits them in batches,
/// deletes what is older than redundancy.history_retention_ms, answers queries, and gives SYNC
/// what the partner lacks and takes the partner's rows.
using history_actor = caf::typed_actor<
    // Values of a pair's active server (from the PAIR).
    caf::reacts_to<history_batch>,
    // The current term (from the ELECTION; 0 until then): later stamps carry it.
    caf::reacts_to<atom::epoch, uint64_t>,
    // Answers the recorded values of one item (console `history`), after committing.
    caf::replies_to<history_query>::with<history_values>,
    // SYNC: the highest stamp held per origin (after committing).
    caf::replies_to<atom::marks>::with<std::vector<origin_mark>>,
    // SYNC: the rows a node holding these marks lacks, at most N, ascending per origin.
    caf::replies_to<atom::export_rows, std::vector<origin_mark>, uint64_t>::with<history_rows>,
    // SYNC: records the partner's rows (idempotent); answers how many were new.
    caf::replies_to<atom::merge, std::vector<history_row>>::with<uint64_t>,
    // Commits what is pending now; answers this node's latest stamp.
    caf::replies_to<atom::flush>::with<data_epoch>,
    // Adds or removes a listener that gets every value as it is stamped.
    caf::reacts_to<atom::subscribe, history_listener_actor>,
    caf::reacts_to<atom::unsubscribe, history_listener_actor>,
    // INTERNAL: commit what was gathered (timer).
    caf::reacts_to<atom::commit>,
    // INTERNAL: delete values older than the retention (timer).
    caf::reacts_to<atom::retention>>;

/// ALARMS keeps the node's alarms: communication failures and monitor conditions (derived from
/// DIAGNOSTICS events: a raise and its clear are one alarm), the partner link, and what other
/// actors report; persisted, acknowledged by operators, stamped and mergeable like history.
using alarms_actor = caf::typed_actor<
    // A new diagnostics event (ALARMS is an event_listener_actor of DIAGNOSTICS).
    caf::reacts_to<diag_event>,
    // Raises or clears the alarm of a key directly.
    caf::reacts_to<alarm_report>,
    // The current term (from the ELECTION; 0 until then): later stamps carry it.
    caf::reacts_to<atom::epoch, uint64_t>,
    // Answers the alarms that are active or unacknowledged, or (true) every kept alarm.
    caf::replies_to<atom::alarms, bool>::with<alarm_list>,
    // Acknowledges alarm ID; answers it (error: no such alarm).
    caf::replies_to<atom::ack, std::string>::with<alarm_list>,
    // SYNC: the highest stamp held per origin.
    caf::replies_to<atom::marks>::with<std::vector<origin_mark>>,
    // SYNC: the alarms whose last change a node holding these marks lacks.
    caf::replies_to<atom::export_rows, std::vector<origin_mark>>::with<std::vector<alarm>>,
    // SYNC: merges the partner's alarms (docs/EVENTS.md, Alarms); answers how many changed.
    caf::replies_to<atom::merge, std::vector<alarm>>::with<uint64_t>,
    // Adds or removes a listener that gets every alarm as it changes.
    caf::reacts_to<atom::subscribe, alarm_listener_actor>,
    caf::reacts_to<atom::unsubscribe, alarm_listener_actor>,
    // The supervisor restarted DIAGNOSTICS: subscribe to this one.
    caf::reacts_to<diagnostics_actor>,
    // INTERNAL: delete cleared, acknowledged alarms older than the retention (timer).
    caf::reacts_to<atom::retention>>;

/// The NOTIFIER mails diagnostics events to the recipients of [notifications]: batched per
/// recipient, rate limited, sent on the mail sender's thread and retried with back-off.
using notifier_actor = caf::typed_actor<
    // A new diagnostics event (the NOTIFIER is an event_listener_actor of DIAGNOSTICS).
    caf::reacts_to<diag_event>,
    // Sends a test mail now to ADDRESS, or to every recipient when it is empty; answers when
    // the SMTP exchange is over.
    caf::replies_to<atom::notify_test, std::string>::with<notify_test_result>,
    // Answers its queue, counters and last error.
    caf::replies_to<atom::status>::with<notifier_status>,
    // The supervisor restarted DIAGNOSTICS: use this handle from now on.
    caf::reacts_to<diagnostics_actor>,
    // INTERNAL: the mail sender finished a mail.
    caf::reacts_to<mail_outcome>,
    // INTERNAL: recipient I's batch window or rate limit is over (timer generation G).
    caf::reacts_to<atom::batch_due, uint64_t, uint64_t>,
    // INTERNAL: send recipient I's failed mail (number N) again.
    caf::reacts_to<atom::retry, uint64_t, uint64_t>>;

/// Whoever routes client item sets (the SUPERVISOR): a PAIR's new and dropped items to SYNC, the
/// partner's (from SYNC) to the PAIR of their alias.
using item_set_listener_actor =
    caf::typed_actor<caf::reacts_to<item_set>, caf::reacts_to<item_drop>>;

/// The NODE supervisor spawns and monitors the node's actors and answers for the node.
using node_actor = caf::typed_actor<
    // Client item sets, new and dropped: from a PAIR (to SYNC), from SYNC (to the PAIR of the
    // alias).
    caf::reacts_to<item_set>, caf::reacts_to<item_drop>,
    // Answers a snapshot of node, partner and pairs.
    caf::replies_to<atom::status>::with<node_status>,
    // Routes an injected fault to the actor that owns its target; answers "" or an error.
    caf::replies_to<fault>::with<std::string>,
    // Operator switch of pair ALIAS to "primary", "secondary" or "" (the other one).
    caf::replies_to<atom::switch_to, std::string, std::string>::with<switch_result>,
    // Compares a pair's two address spaces (console `verify ALIAS`).
    caf::replies_to<atom::verify, std::string>::with<verify_result>,
    // Sends a test mail to ADDRESS or every recipient (console `notify test [ADDRESS]`).
    caf::replies_to<atom::notify_test, std::string>::with<notify_test_result>,
    // This node and its partner as the ELECTION sees them (console `node`).
    caf::replies_to<atom::node_info>::with<election_status>,
    // SYNC's state (console `node`); routed to SYNC.
    caf::replies_to<atom::sync>::with<sync_status>,
    // Operator `switch` of the Running role: "" or why not.
    caf::replies_to<atom::switch_to>::with<std::string>,
    // Operator `maintenance on|off`: "" or why not.
    caf::replies_to<atom::maintenance, bool>::with<std::string>,
    // Operator `connect`: try the partner link now; "" or why not.
    caf::replies_to<atom::connect>::with<std::string>,
    // Operator `verify` (no alias): this node's shared configuration against the partner's.
    caf::replies_to<atom::verify>::with<verify_result>,
    // The ELECTION changed this node's state.
    caf::reacts_to<node_role>,
    // Recorded values of an item (console `history`); routed to HISTORY.
    caf::replies_to<history_query>::with<history_values>,
    // Alarms (console `alarms`, `ack ID`); routed to ALARMS.
    caf::replies_to<atom::alarms, bool>::with<alarm_list>,
    caf::replies_to<atom::ack, std::string>::with<alarm_list>,
    // Orderly stop: stop accepting, flush storage, stop every actor, then quit.
    caf::reacts_to<atom::shutdown>,
    // INTERNAL: a stall of the supervisor itself is over.
    caf::reacts_to<atom::stall_end>>;

/// Whoever owns OPC-SERVER actors (the PAIR) hears their state changes and data from them.
using server_listener_actor =
    caf::typed_actor<caf::reacts_to<server_state_change>, caf::reacts_to<server_data>>;

/// The OPC-SERVER actor owns the connection to one underlying OPC UA server: it connects and
/// reconnects with back-off, polls ServerStatus.State and ServiceLevel, keeps the monitored items
/// it was asked for (re-creating them after a reconnect) and forwards their data changes.
using opc_server_actor = caf::typed_actor<
    // Connect and stay connected (reconnecting with back-off).
    caf::reacts_to<atom::connect>,
    // Disconnect and stay idle (the cold mode's standby).
    caf::reacts_to<atom::disconnect>,
    // Monitor these items (added to those already monitored; same handle = same item).
    caf::reacts_to<atom::monitor, std::vector<item_spec>>,
    // Switch the monitoring mode of these items.
    caf::reacts_to<atom::mode, std::vector<uint32_t>, monitoring_mode>,
    // Stop monitoring these items (deleted on the server, not re-created after a reconnect).
    caf::reacts_to<atom::unmonitor, std::vector<uint32_t>>,
    // Answers a snapshot of the connection.
    caf::replies_to<atom::status>::with<server_snapshot>,
    // Applies drop_server / stall_server / stall_actor; answers "" or an error.
    caf::replies_to<fault>::with<std::string>,
    // Reports of the link (the transport), tagged with the connection's generation.
    caf::reacts_to<link_up>, caf::reacts_to<link_down>, caf::reacts_to<status_reply>,
    caf::reacts_to<items_created>, caf::reacts_to<data_batch>,
    // INTERNAL: poll the status now (tick of this generation).
    caf::reacts_to<atom::tick, uint64_t>,
    // INTERNAL: the status poll with this number was not answered in time.
    caf::reacts_to<atom::poll_timeout, uint64_t>,
    // INTERNAL: has the server been silent (connection generation)? The silence rule.
    caf::reacts_to<atom::silence, uint64_t>,
    // INTERNAL: reconnect after back-off (generation that failed).
    caf::reacts_to<atom::retry, uint64_t>,
    // INTERNAL: an injected stall is over.
    caf::reacts_to<atom::stall_end>>;

/// Whoever hears monitor conditions (the PAIR).
using condition_listener_actor = caf::typed_actor<caf::reacts_to<condition_report>>;

/// The MONITOR evaluates a pair's monitor conditions (stale, equals, above, below, bad_quality)
/// on both of its servers and tells the PAIR when one starts or stops failing.
using monitor_actor = caf::typed_actor<
    // Values of the pair's servers (the monitored items' handles are the MONITOR's).
    caf::reacts_to<pair_data>,
    // A server (re)connected or went away: stale clocks restart or stop.
    caf::reacts_to<atom::connect, int32_t>, caf::reacts_to<atom::disconnect, int32_t>,
    // fire_condition INDEX on server (0/1): the condition reports failing until data clears it.
    caf::replies_to<fault, int32_t>::with<std::string>,
    // INTERNAL: check staleness of condition INDEX on server S (generation G).
    caf::reacts_to<atom::stale_check, int32_t, int32_t, uint64_t>>;

/// The PAIR supervises the two OPC-SERVER actors of one redundant server pair and decides which
/// one is active: failover is its reaction to their state changes and to operator commands.
using pair_actor = caf::typed_actor<
    // From its OPC-SERVERs (a PAIR is their server_listener_actor).
    caf::reacts_to<server_state_change>, caf::reacts_to<server_data>,
    // From its MONITOR.
    caf::reacts_to<condition_report>,
    // From its face: items clients subscribe to (monitored on the servers as the mode says).
    caf::reacts_to<atom::monitor, std::vector<item_spec>>,
    // The partner node's clients' items (partner = true): watched on the face without a client,
    // so they are monitored here too and a takeover creates none. From its face (partner =
    // false): items this node's clients began to watch, told to the items owner.
    caf::reacts_to<item_set>,
    // Items the partner node's clients no longer watch (partner = true): the face stops
    // watching them for the partner (then its own sweep deletes those no client here watches).
    caf::reacts_to<item_drop>,
    // Answers the pair's status (the console's `pairs`).
    caf::replies_to<atom::status>::with<pair_status>,
    // Operator switch to "primary", "secondary" or "" (the other one).
    caf::replies_to<atom::switch_to, std::string>::with<switch_result>,
    // Compares the two servers' address spaces; INTERNAL: a comparison finished.
    caf::replies_to<atom::verify>::with<verify_result>,
    caf::reacts_to<atom::verify, uint64_t, verify_result>,
    // Routes drop_server / stall_server to the named server; answers "" or an error.
    caf::replies_to<fault>::with<std::string>,
    // The supervisor (re)started HISTORY: record to this one.
    caf::reacts_to<history_actor>,
    // This node's role changed (recording, ServiceLevel, a cold standby's connections).
    caf::reacts_to<node_role>,
    // INTERNAL: check whether the primary has been healthy for return_settle_ms.
    caf::reacts_to<atom::settle, uint64_t>,
    // INTERNAL: cold mode with no server answering: try the other one.
    caf::reacts_to<atom::alternate, uint64_t>,
    // INTERNAL: the primary's start-up grace is over (the secondary may become active first).
    caf::reacts_to<atom::retry>,
    // INTERNAL: remove items no client has watched for unused_item_linger_ms (timer).
    caf::reacts_to<atom::sweep>>;

/// Whoever hears the PARTNER LINK (the ELECTION): the link going up and down (with the partner's
/// HELLO, and whether the partner is lost), heartbeat figures, and SYNC payloads from the partner
/// unless the PARTNER LINK was given a separate sync sink.
using partner_listener_actor =
    caf::typed_actor<caf::reacts_to<partner_up>, caf::reacts_to<partner_down>,
                     caf::reacts_to<partner_heartbeat>, caf::reacts_to<sync_payload>>;

/// Whoever acts on this node's role (the SUPERVISOR): told when the ELECTION changes it.
using role_listener_actor = caf::typed_actor<caf::reacts_to<node_role>>;

/// What SYNC needs of the PARTNER LINK: send payloads, and ask whether the link is up.
using sync_link_actor = caf::typed_actor<caf::reacts_to<sync_payload>,
                                         caf::replies_to<atom::status>::with<partner_link_status>>;

/// Where SYNC payloads received from the partner go (the SYNC actor), in the order sent, with
/// what the ELECTION knows that SYNC needs: the link (handed over once made), the partner coming
/// and going (in order with the payloads), and this node's state.
using sync_sink_actor = caf::typed_actor<caf::reacts_to<sync_payload>, caf::reacts_to<partner_up>,
                                         caf::reacts_to<partner_down>, caf::reacts_to<node_role>,
                                         caf::reacts_to<sync_link_actor>>;

/// SYNC replicates history, alarms and diagnostics events between the two nodes on SYNC channel
/// 2 (actors/sync.hpp; wire format transports/partner/sync_codec.hpp).
using sync_actor = sync_sink_actor::extend<
    // Answers its state for the console's `node`.
    caf::replies_to<atom::status>::with<sync_status>,
    // What this node stamps, as it is stamped (SYNC is a listener of HISTORY, ALARMS and
    // DIAGNOSTICS): pushed to the partner while the link is up.
    caf::reacts_to<atom::history, std::vector<history_row>>,
    caf::reacts_to<atom::alarms, std::vector<alarm>>, caf::reacts_to<diag_event>,
    // New items of this node's clients (from the SUPERVISOR): told to the partner (ITEMS).
    // partner = true: what the faces watch for the partner already (a restarted SYNC's seed).
    caf::reacts_to<item_set>,
    // Items this node's clients no longer watch (from the SUPERVISOR): told to the partner (GONE).
    caf::reacts_to<item_drop>,
    // The supervisor restarted one of them: use (and listen to) this one.
    caf::reacts_to<history_actor>, caf::reacts_to<alarms_actor>, caf::reacts_to<diagnostics_actor>,
    // INTERNAL: try again after a failed pull (session number).
    caf::reacts_to<atom::retry, uint64_t>,
    // INTERNAL: the partner did not answer a pull in time (session, request).
    caf::reacts_to<atom::pull_timeout, uint64_t, uint64_t>>;

/// The ELECTION decides whether this node is Running or Standby (actors/election_logic.hpp has
/// the rules). It listens to the PARTNER LINK, talks to the partner's ELECTION on SYNC channel 1,
/// keeps the accumulated Running time and the term in the role record, and tells its owner.
using election_actor = caf::typed_actor<
    // From the PARTNER LINK.
    caf::reacts_to<partner_up>, caf::reacts_to<partner_down>, caf::reacts_to<partner_heartbeat>,
    caf::reacts_to<sync_payload>,
    // Operator `switch` (hand the Running role over, or ask for it): "" or why not.
    caf::replies_to<atom::switch_to>::with<std::string>,
    // Operator `maintenance on|off`: "" or why not.
    caf::replies_to<atom::maintenance, bool>::with<std::string>,
    // Answers this node's and the partner's state for `node`.
    caf::replies_to<atom::status>::with<election_status>,
    // Operator `connect`: the PARTNER LINK tries the partner now; answers once the link is up
    // or after the handshake's time ("" either way: the caller reads the link state), or why not.
    caf::replies_to<atom::connect>::with<std::string>,
    // Operator `verify`: compares the shared configuration with the partner's (key paths).
    caf::replies_to<atom::verify>::with<verify_result>,
    // INTERNAL: an operator command's answer is due (its number).
    caf::reacts_to<atom::reply_due, uint64_t>,
    // drop_link / delay_link, passed on to the PARTNER LINK; answers "" or an error.
    caf::replies_to<fault>::with<std::string>,
    // The supervisor restarted SYNC: send it what goes to the sync sink from now on.
    caf::reacts_to<sync_sink_actor>,
    // INTERNAL: connection_wait_ms has passed.
    caf::reacts_to<atom::wait_over>,
    // INTERNAL: store the role record (periodic while Running).
    caf::reacts_to<atom::persist>>;

/// The PARTNER LINK owns the connection to the partner node: it listens and dials (reconnecting
/// with back-off), does the handshake, sends heartbeats and answers the partner's, applies the
/// loss rules (ping_timeout_ms of silence, missed_pings unanswered heartbeats, the death probe)
/// and tells its listener. It carries SYNC payloads both ways, in order.
using partner_link_actor = caf::typed_actor<
    // Sends these bytes to the partner (dropped, and counted, while the link is not up).
    caf::reacts_to<sync_payload>,
    // This node's HELLO changed (state, epoch, running time, maintenance): sent from the next
    // handshake on.
    caf::reacts_to<partner_hello>,
    // Tries the partner now (console `connect`); resumes dialing after a disconnect.
    caf::reacts_to<atom::connect>,
    // Closes the link with this reason (a CLOSE frame) and dials no more until `connect`.
    caf::reacts_to<atom::disconnect, std::string>,
    // Answers link state, partner name, last heartbeat age and round-trip time.
    caf::replies_to<atom::status>::with<partner_link_status>,
    // Applies drop_link and delay_link; answers "" or an error.
    caf::replies_to<fault>::with<std::string>,
    // Reports of the transport, tagged with the connection's number.
    caf::reacts_to<pl_hello>, caf::reacts_to<pl_up>, caf::reacts_to<pl_down>,
    caf::reacts_to<pl_heartbeat>, caf::reacts_to<pl_sync>, caf::reacts_to<pl_probe>,
    // INTERNAL: heartbeat tick of the link generation.
    caf::reacts_to<atom::heartbeat, uint64_t>,
    // INTERNAL: has the partner been silent for ping_timeout_ms (link generation)?
    caf::reacts_to<atom::silence, uint64_t>,
    // INTERNAL: a loss rule fired; decided after what is already queued (link generation).
    caf::reacts_to<atom::confirm_loss, uint64_t>,
    // INTERNAL: try to listen again (redundancy.listen was not available).
    caf::reacts_to<atom::relisten>,
    // INTERNAL: dial again after back-off (retry number).
    caf::reacts_to<atom::retry, uint64_t>,
    // INTERNAL: the heartbeat rule's deadline after a link closed uncertainly (down number).
    caf::reacts_to<atom::lost_after, uint64_t>>;

/// HTTP answers the status page's API requests the HTTP transport hands it (docs/HTTP.md).
using http_actor = caf::typed_actor<
    // A request from the HTTP transport.
    caf::reacts_to<http_request>,
    // A stream's connection closed.
    caf::reacts_to<atom::closed, uint64_t>,
    // A new diagnostics event (HTTP is an event_listener_actor of DIAGNOSTICS).
    caf::reacts_to<diag_event>,
    // The supervisor restarted DIAGNOSTICS: use this handle from now on.
    caf::reacts_to<diagnostics_actor>,
    // INTERNAL: push the status to the streams (timer).
    caf::reacts_to<atom::tick>>;

/// The CONSOLE actor executes operator commands arriving from console connections.
using console_actor = caf::typed_actor<
    // A command line from a connection; the reply goes back through the request's peer.
    caf::reacts_to<console_request>,
    // A connection closed: forget its follow subscription.
    caf::reacts_to<atom::closed, uint64_t>,
    // A new diagnostics event, forwarded to connections that follow events.
    caf::reacts_to<diag_event>,
    // The supervisor restarted DIAGNOSTICS: use this handle from now on.
    caf::reacts_to<diagnostics_actor>,
    // Applies an injected fault (stall_actor); answers "" or an error.
    caf::replies_to<fault>::with<std::string>,
    // INTERNAL: an injected stall is over.
    caf::reacts_to<atom::stall_end>>;

} // namespace tandem

#pragma once
/// The vocabulary of Tandem: every atom and message type, registered in one type-id block.
/// Include this (not the individual headers) wherever messages are sent or handled.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/type_id.hpp"

#include "messages/alarms.hpp"
#include "messages/console.hpp"
#include "messages/election.hpp"
#include "messages/event.hpp"
#include "messages/faults.hpp"
#include "messages/history.hpp"
#include "messages/http.hpp"
#include "messages/notify.hpp"
#include "messages/partner.hpp"
#include "messages/server.hpp"
#include "messages/status.hpp"
#include "messages/sync.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(tandem, caf::first_custom_type_id)

// -- queries and commands ----------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, status, "status")
CAF_ADD_ATOM(tandem, tandem::atom, events, "events")
CAF_ADD_ATOM(tandem, tandem::atom, shutdown, "shutdown")
CAF_ADD_ATOM(tandem, tandem::atom, flush, "flush")

// -- subscriptions -------------------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, subscribe, "subscribe")
CAF_ADD_ATOM(tandem, tandem::atom, unsubscribe, "unsubscr")

// -- internal timers and bookkeeping -------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, commit, "commit")
CAF_ADD_ATOM(tandem, tandem::atom, retry, "retry")
CAF_ADD_ATOM(tandem, tandem::atom, stall_end, "stall_end")
CAF_ADD_ATOM(tandem, tandem::atom, closed, "closed")
CAF_ADD_ATOM(tandem, tandem::atom, restart, "restart")
CAF_ADD_ATOM(tandem, tandem::atom, tick, "tick")
CAF_ADD_ATOM(tandem, tandem::atom, poll_timeout, "poll_tmo")

// -- server connections --------------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, connect, "connect")
CAF_ADD_ATOM(tandem, tandem::atom, disconnect, "disconnect")
CAF_ADD_ATOM(tandem, tandem::atom, monitor, "monitor")
CAF_ADD_ATOM(tandem, tandem::atom, mode, "mode")

// -- pairs -----------------------------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, switch_to, "switch_to")
CAF_ADD_ATOM(tandem, tandem::atom, settle, "settle")
CAF_ADD_ATOM(tandem, tandem::atom, alternate, "alternate")
CAF_ADD_ATOM(tandem, tandem::atom, stale_check, "stale_chk")
CAF_ADD_ATOM(tandem, tandem::atom, unmonitor, "unmonitor")
CAF_ADD_ATOM(tandem, tandem::atom, sweep, "sweep")
CAF_ADD_ATOM(tandem, tandem::atom, verify, "verify")

// -- notifications -----------------------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, notify_test, "notify_tst")
CAF_ADD_ATOM(tandem, tandem::atom, batch_due, "batch_due")
// -- partner link --------------------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, heartbeat, "heartbeat")
CAF_ADD_ATOM(tandem, tandem::atom, silence, "silence")
CAF_ADD_ATOM(tandem, tandem::atom, lost_after, "lost_after")
CAF_ADD_ATOM(tandem, tandem::atom, confirm_loss, "confirm")
CAF_ADD_TYPE_ID(tandem, (tandem::data_epoch))
CAF_ADD_TYPE_ID(tandem, (tandem::partner_hello))
CAF_ADD_TYPE_ID(tandem, (tandem::sync_payload))
CAF_ADD_TYPE_ID(tandem, (tandem::partner_up))
CAF_ADD_TYPE_ID(tandem, (tandem::partner_down))
CAF_ADD_TYPE_ID(tandem, (tandem::partner_heartbeat))
CAF_ADD_TYPE_ID(tandem, (tandem::partner_link_status))
CAF_ADD_TYPE_ID(tandem, (tandem::pl_hello))
CAF_ADD_TYPE_ID(tandem, (tandem::pl_up))
CAF_ADD_TYPE_ID(tandem, (tandem::pl_down))
CAF_ADD_TYPE_ID(tandem, (tandem::pl_heartbeat))
CAF_ADD_TYPE_ID(tandem, (tandem::pl_sync))
CAF_ADD_TYPE_ID(tandem, (tandem::pl_probe))
// -- election ------------------------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, maintenance, "maint")
CAF_ADD_ATOM(tandem, tandem::atom, wait_over, "wait_over")
CAF_ADD_ATOM(tandem, tandem::atom, persist, "persist")
CAF_ADD_ATOM(tandem, tandem::atom, node_info, "node_info")
CAF_ADD_ATOM(tandem, tandem::atom, reply_due, "reply_due")
CAF_ADD_ATOM(tandem, tandem::atom, relisten, "relisten")
CAF_ADD_TYPE_ID(tandem, (tandem::node_role))
CAF_ADD_TYPE_ID(tandem, (tandem::election_status))

// -- diagnostics ---------------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::event_report))
CAF_ADD_TYPE_ID(tandem, (tandem::diag_event))
CAF_ADD_TYPE_ID(tandem, (std::vector<tandem::diag_event>))
CAF_ADD_TYPE_ID(tandem, (tandem::event_rows))

// -- faults --------------------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::fault))

// -- server connections --------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::item_spec))
CAF_ADD_TYPE_ID(tandem, (std::vector<tandem::item_spec>))
CAF_ADD_TYPE_ID(tandem, (tandem::item_update))
CAF_ADD_TYPE_ID(tandem, (tandem::link_up))
CAF_ADD_TYPE_ID(tandem, (tandem::link_down))
CAF_ADD_TYPE_ID(tandem, (tandem::status_reply))
CAF_ADD_TYPE_ID(tandem, (tandem::items_created))
CAF_ADD_TYPE_ID(tandem, (tandem::data_batch))
CAF_ADD_TYPE_ID(tandem, (tandem::server_state_change))
CAF_ADD_TYPE_ID(tandem, (tandem::server_data))
CAF_ADD_TYPE_ID(tandem, (tandem::server_snapshot))
CAF_ADD_TYPE_ID(tandem, (tandem::pair_data))
CAF_ADD_TYPE_ID(tandem, (tandem::condition_report))

// -- notifications -------------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::mail_outcome))
CAF_ADD_TYPE_ID(tandem, (tandem::notify_test_result))
CAF_ADD_TYPE_ID(tandem, (tandem::notifier_status))

// -- status (local only) -------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::node_status))
CAF_ADD_TYPE_ID(tandem, (tandem::pair_status))
CAF_ADD_TYPE_ID(tandem, (tandem::switch_result))
CAF_ADD_TYPE_ID(tandem, (tandem::verify_result))

// -- console (local only) ------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::console_request))

// -- history and alarms --------------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, history, "history")
CAF_ADD_ATOM(tandem, tandem::atom, alarms, "alarms")
CAF_ADD_ATOM(tandem, tandem::atom, ack, "ack")
CAF_ADD_ATOM(tandem, tandem::atom, epoch, "epoch")
CAF_ADD_ATOM(tandem, tandem::atom, marks, "marks")
CAF_ADD_ATOM(tandem, tandem::atom, export_rows, "export")
CAF_ADD_ATOM(tandem, tandem::atom, merge, "merge")
CAF_ADD_ATOM(tandem, tandem::atom, retention, "retention")
CAF_ADD_TYPE_ID(tandem, (tandem::recorded_value))
CAF_ADD_TYPE_ID(tandem, (std::vector<tandem::recorded_value>))
CAF_ADD_TYPE_ID(tandem, (tandem::history_batch))
CAF_ADD_TYPE_ID(tandem, (tandem::history_row))
CAF_ADD_TYPE_ID(tandem, (std::vector<tandem::history_row>))
CAF_ADD_TYPE_ID(tandem, (tandem::history_query))
CAF_ADD_TYPE_ID(tandem, (tandem::history_values))
CAF_ADD_TYPE_ID(tandem, (tandem::origin_mark))
CAF_ADD_TYPE_ID(tandem, (std::vector<tandem::origin_mark>))
CAF_ADD_TYPE_ID(tandem, (tandem::history_rows))
CAF_ADD_TYPE_ID(tandem, (tandem::alarm))
CAF_ADD_TYPE_ID(tandem, (std::vector<tandem::alarm>))
CAF_ADD_TYPE_ID(tandem, (tandem::alarm_report))
CAF_ADD_TYPE_ID(tandem, (tandem::alarm_list))

// -- sync ------------------------------------------------------------------------
CAF_ADD_ATOM(tandem, tandem::atom, sync, "sync")
CAF_ADD_ATOM(tandem, tandem::atom, pull_timeout, "pull_tmo")
CAF_ADD_TYPE_ID(tandem, (tandem::sync_status))
CAF_ADD_TYPE_ID(tandem, (tandem::item_set))
CAF_ADD_TYPE_ID(tandem, (tandem::item_drop))

// -- status page and metrics (local only) --------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::http_request))
CAF_ADD_TYPE_ID(tandem, (tandem::event_counts))

CAF_END_TYPE_ID_BLOCK(tandem)

// Local-only types: they hold pointers or never cross a process boundary.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tandem::node_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tandem::pair_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tandem::switch_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tandem::verify_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tandem::console_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tandem::http_request)

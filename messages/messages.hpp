#pragma once
/// The vocabulary of Tandem: every atom and message type, registered in one type-id block.
/// Include this (not the individual headers) wherever messages are sent or handled.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/type_id.hpp"

#include "messages/console.hpp"
#include "messages/event.hpp"
#include "messages/faults.hpp"
#include "messages/status.hpp"

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

// -- diagnostics ---------------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::event_report))
CAF_ADD_TYPE_ID(tandem, (tandem::diag_event))
CAF_ADD_TYPE_ID(tandem, (std::vector<tandem::diag_event>))

// -- faults --------------------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::fault))

// -- status (local only) -------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::node_status))

// -- console (local only) ------------------------------------------------------
CAF_ADD_TYPE_ID(tandem, (tandem::console_request))

CAF_END_TYPE_ID_BLOCK(tandem)

// Local-only types: they hold pointers or never cross a process boundary.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tandem::node_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tandem::console_request)

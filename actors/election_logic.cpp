#include "actors/election_logic.hpp"

#include <nlohmann/json.hpp>

namespace tandem {

const char* to_string(node_state s) {
  switch (s) {
  case node_state::running:
    return "Running";
  case node_state::standby:
    return "Standby";
  case node_state::unknown:
    break;
  }
  return "Unknown";
}

namespace {

std::optional<node_state> state_of(const std::string& s) {
  if (s == "Running") return node_state::running;
  if (s == "Standby") return node_state::standby;
  if (s == "Unknown") return node_state::unknown;
  return std::nullopt;
}

} // namespace

std::string election_message::encode() const {
  nlohmann::json j;
  switch (type) {
  case kind::state:
    j = {{"type", "state"},
         {"state", to_string(state)},
         {"running_total_ms", running_total_ms},
         {"maintenance", maintenance}};
    break;
  case kind::take_over:
    j = {{"type", "take_over"}};
    break;
  case kind::release:
    j = {{"type", "release"}};
    break;
  case kind::info:
    j = {{"type", "info"},
         {"application_uri", application_uri},
         {"client_sessions", client_sessions},
         {"config", config_text}};
    break;
  }
  return j.dump();
}

std::optional<election_message> election_message::parse(const std::string& text, std::string& why) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    why = "not a JSON object";
    return std::nullopt;
  }
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) {
    why = "no \"type\"";
    return std::nullopt;
  }
  election_message m;
  const std::string t = type->get<std::string>();
  if (t == "take_over") {
    m.type = kind::take_over;
  } else if (t == "release") {
    m.type = kind::release;
  } else if (t == "info") {
    m.type = kind::info;
    auto uri = j.find("application_uri");
    auto sessions = j.find("client_sessions");
    auto config = j.find("config");
    if (uri != j.end() && uri->is_string()) m.application_uri = uri->get<std::string>();
    if (sessions != j.end() && sessions->is_number_integer())
      m.client_sessions = sessions->get<int64_t>();
    if (config != j.end() && config->is_string()) m.config_text = config->get<std::string>();
  } else if (t == "state") {
    m.type = kind::state;
    auto s = j.find("state");
    auto total = j.find("running_total_ms");
    auto maint = j.find("maintenance");
    std::optional<node_state> st;
    if (s != j.end() && s->is_string()) st = state_of(s->get<std::string>());
    if (!st) {
      why = "\"state\" must be Running, Standby or Unknown";
      return std::nullopt;
    }
    if (total == j.end() || !total->is_number_unsigned()) {
      why = "\"running_total_ms\" must be a non-negative integer";
      return std::nullopt;
    }
    if (maint == j.end() || !maint->is_boolean()) {
      why = "\"maintenance\" must be true or false";
      return std::nullopt;
    }
    m.state = *st;
    m.running_total_ms = total->get<uint64_t>();
    m.maintenance = maint->get<bool>();
  } else {
    why = "unknown type \"" + t + "\"";
    return std::nullopt;
  }
  return m;
}

election_message election_logic::sent_state() {
  sent_running_total_ = running_total_;
  return state_message();
}

election_message election_logic::state_message() const {
  election_message m;
  m.type = election_message::kind::state;
  m.state = state_;
  m.running_total_ms = running_total_;
  m.maintenance = maintenance_;
  return m;
}

void election_logic::become(election_actions& a, node_state s, const std::string& cause) {
  if (s == state_) return;
  state_ = s;
  a.become = s;
  a.cause = cause;
  if (s != node_state::running) handing_over_ = false;
  if (linked_) a.to_partner.push_back(sent_state());
}

void election_logic::hand_over(election_actions& a) {
  handing_over_ = true;
  election_message m;
  m.type = election_message::kind::take_over;
  a.to_partner.push_back(m);
}

bool election_logic::wins_split_brain() const {
  // A node in maintenance never keeps the role against one in service.
  if (maintenance_ != partner_maintenance_) return !maintenance_;
  // Both sides compare the same two numbers: the Running time each told the other in its state
  // message at link-up (not this node's time now: the partner's report can arrive seconds late
  // on a slow link, and judged against a fresher own time both nodes could win). Differences
  // within the tolerance count as a tie.
  if (s_.split_brain == config::split_brain_policy::longest_running) {
    uint64_t a = sent_running_total_, b = partner_running_total_;
    uint64_t diff = a > b ? a - b : b - a;
    if (diff > s_.tie_tolerance_ms) return a > b;
  }
  return master(); // master_wins, or a tie
}

election_actions election_logic::start() {
  election_actions a;
  if (s_.role == config::role::independent) become(a, node_state::running, "independent");
  return a;
}

election_actions election_logic::connection_wait_over() {
  election_actions a;
  if (state_ == node_state::unknown && !linked_ && !maintenance_)
    become(a, node_state::running, "no_partner");
  return a;
}

election_actions election_logic::partner_up(node_state state, uint64_t running_total_ms,
                                            bool maintenance, config::role partner_role) {
  (void)partner_role;
  linked_ = true;
  handing_over_ = false; // a handover in flight when the link broke is void
  partner_state_ = state;
  partner_running_total_ = running_total_ms;
  partner_maintenance_ = maintenance;
  // Both Running (a split brain healing): the HELLO's Running time is as old as the partner's
  // last state change, so the verdict waits for the `state` message each side sends now.
  election_actions a =
      state_ == node_state::running && state == node_state::running ? election_actions{} : decide();
  // The partner hears this node's state at once (its HELLO may be older).
  if (a.to_partner.empty() || a.to_partner.front().type != election_message::kind::state)
    a.to_partner.insert(a.to_partner.begin(), sent_state());
  return a;
}

election_actions election_logic::received(const election_message& m) {
  election_actions a;
  switch (m.type) {
  case election_message::kind::state:
    partner_state_ = m.state;
    partner_running_total_ = m.running_total_ms;
    partner_maintenance_ = m.maintenance;
    return decide();
  case election_message::kind::take_over:
    // The partner hands the Running role over: take it first, it stops after hearing us.
    if (maintenance_) {
      a.to_partner.push_back(sent_state()); // stays Standby: the partner keeps running
      return a;
    }
    become(a, node_state::running, "handover");
    if (!a.become) a.to_partner.push_back(sent_state());
    return a;
  case election_message::kind::info:
    return a; // the actor keeps these facts; the rules do not use them
  case election_message::kind::release:
    // The partner asks for the role (a master starting with automatic recovery, or an operator
    // switch there): hand over if it can take it.
    if (state_ == node_state::running && !partner_maintenance_ && !handing_over_) hand_over(a);
    return a;
  }
  return a;
}

election_actions election_logic::decide() {
  election_actions a;
  const node_state p = partner_state_;
  switch (state_) {
  case node_state::unknown:
    if (maintenance_) {
      become(a, node_state::standby, "maintenance");
    } else if (p == node_state::running) {
      become(a, node_state::standby, "partner_running");
      // A master that starts with automatic recovery takes its role back, by a handover.
      if (master() && s_.recovery == config::recovery_mode::automatic && !asked_release_) {
        asked_release_ = true;
        election_message m;
        m.type = election_message::kind::release;
        a.to_partner.push_back(m);
      }
    } else if (p == node_state::standby || partner_maintenance_) {
      become(a, node_state::running, "partner_standby");
    } else if (master()) {
      become(a, node_state::running, "master_first");
    } else {
      become(a, node_state::standby, "master_starting");
    }
    break;
  case node_state::standby:
    if (p == node_state::standby && !maintenance_ && (partner_maintenance_ || master() || !linked_))
      become(a, node_state::running, "nobody_running");
    break;
  case node_state::running:
    if (p == node_state::running) {
      if (handing_over_) {
        become(a, node_state::standby, "handover"); // the partner runs: this node stops
      } else if (!wins_split_brain()) {
        become(a, node_state::standby, "split_brain");
      }
    } else if (p == node_state::standby && linked_) {
      if (handing_over_ && partner_maintenance_) {
        handing_over_ = false; // declined: the partner is in maintenance and stays Standby
      } else if (maintenance_ && !partner_maintenance_ && !handing_over_) {
        hand_over(a); // still Running in maintenance (a take_over lost with the link): again
      }
    }
    break;
  }
  return a;
}

election_actions election_logic::partner_lost() {
  election_actions a;
  linked_ = false;
  partner_state_ = node_state::unknown;
  handing_over_ = false;
  if (state_ != node_state::running && !maintenance_)
    become(a, node_state::running, "partner_lost");
  return a;
}

election_actions election_logic::link_down() {
  linked_ = false;
  handing_over_ = false; // a take_over may have been lost with the link
  return {};
}

election_actions election_logic::operator_switch() {
  election_actions a;
  if (!linked_) {
    a.error = "no partner is connected: there is nobody to switch with";
    return a;
  }
  if (state_ == node_state::running) {
    if (partner_maintenance_) {
      a.error = "the partner is in maintenance: it cannot take over";
      return a;
    }
    if (partner_state_ != node_state::standby) {
      a.error = std::string("the partner is ") + to_string(partner_state_) +
                ", not Standby: it cannot take over now";
      return a;
    }
    hand_over(a);
    return a;
  }
  if (maintenance_) {
    a.error = "this node is in maintenance: turn it off first (maintenance off)";
    return a;
  }
  if (partner_state_ != node_state::running) {
    a.error = std::string("the partner is ") + to_string(partner_state_) + ", not Running";
    return a;
  }
  election_message m;
  m.type = election_message::kind::release;
  a.to_partner.push_back(m);
  return a;
}

election_actions election_logic::set_maintenance(bool on) {
  election_actions a;
  if (on == maintenance_) return a;
  if (on && state_ == node_state::running) {
    if (!linked_ || partner_state_ != node_state::standby || partner_maintenance_) {
      a.error = "this node is Running and no Standby partner can take over: maintenance would "
                "stop the plant's data";
      return a;
    }
    maintenance_ = true;
    hand_over(a);
    a.to_partner.insert(a.to_partner.begin(), sent_state());
    return a;
  }
  maintenance_ = on;
  if (on) {
    become(a, node_state::standby, "maintenance");
  } else if (!linked_ || partner_state_ != node_state::running) {
    // Back in service with nobody Running: take the role.
    if (!linked_ || partner_state_ == node_state::standby || partner_maintenance_)
      become(a, node_state::running, "maintenance_off");
  }
  if (linked_ && !a.become) a.to_partner.push_back(sent_state());
  return a;
}

} // namespace tandem

// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO (host/tracking.h), with Redis 7.0's
// checks in its order and its error texts (networking.c clientCommand).
#include <string>
#include <vector>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/server_commands.h"
#include "host/tracking.h"

namespace ferrite::host {

namespace {

using sdk::EqualsIgnoreCase;

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }
int Err(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  return SendError(c, code, msg);
}
void Ok(ferrite_ctx* c) { c->sink->simple(c->st, "OK", 2); }
void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }

}  // namespace

// CLIENT TRACKING (ON|OFF) [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
int CmdClientTracking(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Client* cl = c->client;
  Tracking& tr = c->host->tracking();
  Tracking::Options o;
  for (int j = 3; j < argc; j++) {
    bool more = j + 1 < argc;
    auto a = SV(argv[j]);
    if (EqualsIgnoreCase(a, "REDIRECT") && more) {
      j++;
      if (o.redirect != 0) return Err(c, "ERR A client can only redirect to a single other client");
      int64_t id = 0;
      if (!sdk::ParseInt64(SV(argv[j]), &id)) return Err(c, {}, FERRITE_E_NOT_INTEGER);
      // Checked now, though it may go away later (then: tracking-redir-broken).
      if (id <= 0 || !c->host->FindClient(static_cast<uint64_t>(id)))
        return Err(c, "ERR The client ID you want redirect to does not exist");
      o.redirect = static_cast<uint64_t>(id);
    } else if (EqualsIgnoreCase(a, "BCAST")) {
      o.bcast = true;
    } else if (EqualsIgnoreCase(a, "OPTIN")) {
      o.optin = true;
    } else if (EqualsIgnoreCase(a, "OPTOUT")) {
      o.optout = true;
    } else if (EqualsIgnoreCase(a, "NOLOOP")) {
      o.noloop = true;
    } else if (EqualsIgnoreCase(a, "PREFIX") && more) {
      j++;
      o.prefixes.emplace_back(SV(argv[j]));
    } else {
      return Err(c, {}, FERRITE_E_SYNTAX);
    }
  }
  auto mode = SV(argv[2]);
  if (EqualsIgnoreCase(mode, "ON")) {
    const auto& t = cl->tracking;
    if (!o.bcast && !o.prefixes.empty())
      return Err(c, "ERR PREFIX option requires BCAST mode to be enabled");
    if (t.on && t.bcast != o.bcast)
      return Err(c,
                 "ERR You can't switch BCAST mode on/off before disabling tracking for this "
                 "client, and then re-enabling it with a different mode.");
    if (o.bcast && (o.optin || o.optout))
      return Err(c, "ERR OPTIN and OPTOUT are not compatible with BCAST");
    if (o.optin && o.optout) return Err(c, "ERR You can't specify both OPTIN mode and OPTOUT mode");
    if ((o.optin && t.optout) || (o.optout && t.optin))
      return Err(c,
                 "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
                 "client, and then re-enabling it with a different mode.");
    if (o.bcast) {
      std::string why = tr.PrefixCollision(cl, o.prefixes);
      if (!why.empty()) return Err(c, why);
    }
    tr.Enable(cl, std::move(o));
  } else if (EqualsIgnoreCase(mode, "OFF")) {
    tr.Disable(cl);
  } else {
    return Err(c, {}, FERRITE_E_SYNTAX);
  }
  Ok(c);
  return FERRITE_OK;
}

// CLIENT CACHING (YES|NO): for the next command (or transaction) only.
int CmdClientCaching(ferrite_ctx* c, int, const ferrite_slice* argv) {
  auto& t = c->client->tracking;
  if (!t.on)
    return Err(c,
               "ERR CLIENT CACHING can be called only when the client is in tracking mode with "
               "OPTIN or OPTOUT mode enabled");
  auto opt = SV(argv[2]);
  if (EqualsIgnoreCase(opt, "YES")) {
    if (!t.optin)
      return Err(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
  } else if (EqualsIgnoreCase(opt, "NO")) {
    if (!t.optout)
      return Err(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
  } else {
    return Err(c, {}, FERRITE_E_SYNTAX);
  }
  t.caching = true;
  Ok(c);
  return FERRITE_OK;
}

int CmdClientGetRedir(ferrite_ctx* c, int, const ferrite_slice*) {
  const auto& t = c->client->tracking;
  c->sink->integer(c->st, t.on ? static_cast<int64_t>(t.redirect) : -1);
  return FERRITE_OK;
}

int CmdClientTrackingInfo(ferrite_ctx* c, int, const ferrite_slice*) {
  const auto& t = c->client->tracking;
  std::vector<std::string_view> flags{t.on ? "on" : "off"};
  if (t.bcast) flags.push_back("bcast");
  if (t.optin) flags.push_back("optin");
  if (t.optin && t.caching) flags.push_back("caching-yes");
  if (t.optout) flags.push_back("optout");
  if (t.optout && t.caching) flags.push_back("caching-no");
  if (t.noloop) flags.push_back("noloop");
  if (t.broken_redir) flags.push_back("broken_redirect");
  c->sink->map(c->st, 3);
  Bulk(c, "flags");
  c->sink->set(c->st, flags.size());
  for (auto f : flags) Bulk(c, f);
  Bulk(c, "redirect");
  c->sink->integer(c->st, t.on ? static_cast<int64_t>(t.redirect) : -1);
  Bulk(c, "prefixes");
  c->sink->array(c->st, t.prefixes.size());
  for (auto& p : t.prefixes) Bulk(c, p);
  return FERRITE_OK;
}

}  // namespace ferrite::host

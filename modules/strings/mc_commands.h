// Hidden MC.* commands: memcached semantics (flags, cas, absolute exptime, meta options)
// on the shared keyspace. Both memcached protocol plugins reach them through the host's
// execute(), so every memcached write goes through dispatch (locking, propagation, WATCH
// via the key version, keyspace events). The plugins only frame; no handler here asks
// which protocol it serves. Owned by the memcached compatibility work.
//
// Reply contract (protocol-neutral): an array whose first element is a simple-string
// status word, followed by fields:
//
//   MC.GET   key [BRIEF] [WARM] [NOBUMP] [IDLE] [RECACHE r]   READONLY (WARM: a miss may
//            wait for warm on a miss, host/warm.h, and then runs again)
//   MC.GAT   key [TOUCH exp] [VIVIFY exp] [RECACHE r] [BRIEF] [NOBUMP] [IDLE] [NEWCAS c]
//            [WARM]   WRITE (touch / create-on-miss; WARM as MC.GET's, on a miss without
//            VIVIFY: the warmed item is then touched)
//     -> [HIT value flags cas ttl_s idle_s created ttl_before_s bits won] | [MISS]
//        ttl_s: seconds left, -1 = no expiry; created: 1 when VIVIFY made the key;
//        ttl_before_s: the TTL before this command (-1 when created). On a created item
//        with both TOUCH and VIVIFY the later of the two sets the TTL (memcached's flag
//        order); meta `t` prints the TTL as of its place among T / N.
//        idle_s: with IDLE, the idle time before this command's access (meta `l`).
//        bits: the item's FERRITE_MC_* bits before this command (meta h, Z, X);
//        won: 1 when this command won the recache token (meta W): it created the item,
//        its RECACHE r is above the TTL (after TOUCH when RECACHE follows it), or the
//        item is stale; none while a token is out. A hit marks the item fetched and
//        bumps it, unless NOBUMP (meta u). NEWCAS: the created item's CAS (meta E).
//        BRIEF: a hit is [HIT value flags cas] (what classic get/gets/gat and binary get
//        print; no TTL or idle lookup).
//   MC.SET   key value mode flags [EX exp | PXAT abs_ms] [CAS n] [STALE] [VIVIFY exp]
//            [NEWCAS c]     mode: SET ADD REPLACE APPEND PREPEND CAS
//     -> [STORED cas size] | [NOT_STORED] | [EXISTS] | [NOT_FOUND]
//        an already-expired store (or ARITH vivify) still answers a fresh, unique cas, as
//        memcached does; the old item is gone. size: the value's length after the store.
//        STALE (meta ms I): a CAS below the item's stores the value marked stale, with
//        the item's TTL and any token already out. VIVIFY: an APPEND/PREPEND miss creates
//        the item (flags as sent, VIVIFY's exptime). NEWCAS: the stored item's CAS.
//   MC.DELETE key [CAS n] [STALE] [EMPTY] [TOUCH exp] [FLAGS f] [NEWCAS c]
//     -> [DELETED] | [NOT_FOUND] | [EXISTS]
//        STALE (meta md I): the item stays, marked stale with a new CAS (or NEWCAS), TTL
//        from TOUCH; EMPTY (md x): the item stays with an empty value, FLAGS (else 0),
//        TOUCH's TTL (else none) and its CAS (or NEWCAS). The stale mark propagates as
//        MC.DELETE key STALE after the write, which replays as the mark alone.
//   MC.ARITH  key INCR|DECR delta [CAS n] [INITIAL v] [VIVIFY exp] [TOUCH exp] [NEWCAS c]
//     -> [HIT "value" cas ttl_s created ttl_before_s] | [NOT_FOUND] | [NON_NUMERIC] | [EXISTS]
//        created: 1 when VIVIFY made the item (meta `ma q` still answers then)
//        an empty value is NON_NUMERIC before the CAS compare (memcached's order)
//   MC.TOUCH  key exp                     -> [TOUCHED cas] | [NOT_FOUND]
//   MC.FLUSH  [delay]                     -> [OK]
//   MC.META   key                         -> [HIT exp_s la_s cas size flags bits cls] | [MISS]
//             (cls: the size class, mc_introspect.h; 0 when the host cannot say)
//   MC.STATS                              -> [OK name value name value ...]
//
// `exp` is memcached's exptime: 0 none, <= 30 days relative seconds, larger = absolute
// unix seconds, negative = already expired. Host errors (OOM, NOAUTH, ...) arrive as
// ordinary error replies and the plugins render them in their own wire form.
//
// Non-string keys: invisible to reads and read-modify-writes (a miss / NOT_FOUND /
// NOT_STORED), an obstacle to ADD (NOT_STORED), replaced by SET, removed by DELETE.
#pragma once

#include <string_view>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::mod::strings {

// Registers the MC.* commands into the strings module. Called from the strings
// module's load entry point.
int RegisterMcCommands(ferrite_plugin* p);
void UnregisterMcState(ferrite_plugin* p);

// RESP GET's miss: with the module option memcached-warm-resp at 1 (CONFIG SET
// memcached-warm-resp 1, or [modules.strings] in ferrite.toml) it waits for warm on a
// miss as a memcached get does (host/warm.h). True when the client was parked: the
// handler returns FERRITE_BLOCKED and runs again once the key is warmed or given up.
bool WaitForWarmOnRespGet(ferrite_ctx* c, std::string_view key);
// memcached-warm-resp is on (MGET then looks for its missing keys first).
bool WarmOnRespEnabled(ferrite_ctx* c);
// The same for MGET's missing keys (all of them in one wait); false: answer now.
bool WaitForWarmOnRespMget(ferrite_ctx* c, const std::vector<std::string_view>& missing);

}  // namespace ferrite::mod::strings

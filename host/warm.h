// Warm on a miss: `[compatibility] warm_from = "host:port"` (CONFIG memcached-warm-from,
// settable at run time; "" = off). A memcached `get`/`gets` miss asks this service,
// through the hidden host command MC.WARM, to fetch the key from the old memcached
// (`mg <key> v f t`), and parks the client on the key for at most warm_timeout_ms.
// One fetcher thread pipelines the requested keys over one connection, stores each hit
// with add semantics (a client's write that came first wins) with its flags and TTL,
// and signals the key, so the parked clients re-run their get and find the item.
// Concurrent misses on one key make one fetch (single-flight). A miss at the source, an
// error, a source that is down (retried at most once a second) or slower than the
// timeout costs at most the timeout, then the client gets a plain miss.
#pragma once

#include <memory>

#include "host/services.h"

namespace ferrite::host {

class Host;

void RegisterWarmCommands(Host& host);  // MC.WARM, MC.WARMDONE
std::unique_ptr<Service> StartWarmService(Host& host);

}  // namespace ferrite::host

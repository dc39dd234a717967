// Mirror writes: `[compatibility] mirror_to = "host:port"` (CONFIG memcached-mirror-to,
// settable at run time; "" = off) forwards every write Ferrite propagates on the
// memcached db to an old memcached, asynchronously, so that a rollback to it loses
// nothing during a cutover. It is a propagation sink (like the AOF): Feed encodes the
// write (mirror_encode.h) into a bounded queue under the writer's shard lock; one
// sender thread drains it over a single connection. A full queue drops the write and
// counts it (INFO mirror, a log line at most every 10 s); a lost connection is retried
// every second while the queue fills.
#pragma once

#include <memory>

#include "host/services.h"

namespace ferrite::host {

class Host;

std::unique_ptr<Service> StartMirrorService(Host& host);

}  // namespace ferrite::host

#include "host/services.h"

#include "host/host.h"

namespace ferrite::host {

// Persistence and replication add themselves here as they land.
Services StartServices(Host& host) { return {}; }

void StopServices(Host& host, Services& services) {
  for (auto& s : services) s->Stop();
  services.clear();
}

}  // namespace ferrite::host

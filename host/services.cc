#include "host/services.h"

#include "host/host.h"
#include "host/persistence/dump.h"
#include "host/persistence/persistence.h"

namespace ferrite::host {

Services StartServices(Host& host) {
  Services s;
  persist::RegisterPersistenceCommands(&host);
  persist::RegisterDumpCommands(&host);
  auto p = std::make_unique<persist::PersistenceService>(host);
  p->Start();
  s.push_back(std::move(p));
  return s;
}

void StopServices(Host& host, Services& services) {
  for (auto& s : services) s->Stop();
  services.clear();
}

}  // namespace ferrite::host

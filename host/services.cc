#include "host/services.h"

#include "host/host.h"
#include "host/mirror.h"
#include "host/warm.h"
#include "host/persistence/dump.h"
#include "host/persistence/persistence.h"
#include "host/replication/replication.h"

namespace ferrite::host {

void RegisterServiceCommands(Host& host) {
  persist::RegisterPersistenceCommands(&host);
  persist::RegisterDumpCommands(&host);
  repl::RegisterReplicationCommands(&host);
  RegisterWarmCommands(host);
}

Services StartServices(Host& host) {
  Services s;
  auto p = std::make_unique<persist::PersistenceService>(host);
  p->Start();
  s.push_back(std::move(p));
  auto r = std::make_unique<repl::ReplicationService>(host);
  r->Start();
  s.push_back(std::move(r));
  s.push_back(StartMirrorService(host));
  s.push_back(StartWarmService(host));
  return s;
}

void StopServices(Host& host, Services& services) {
  // Reverse start order: replication (whose link may start an AOF rewrite) stops
  // before persistence.
  for (auto it = services.rbegin(); it != services.rend(); ++it) (*it)->Stop();
  services.clear();
}

}  // namespace ferrite::host

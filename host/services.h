// Host services started after plugins load and stopped after the server stops:
// persistence (AOF, snapshots) and replication. Each registers what it needs with the
// host (propagation sinks, INFO sections, DEBUG RELOAD) and owns its threads.
#pragma once

#include <memory>
#include <vector>

namespace ferrite::host {

class Host;

class Service {
 public:
  virtual ~Service() = default;
  // Called on shutdown (after the server stopped serving).
  virtual void Stop() = 0;
};

using Services = std::vector<std::unique_ptr<Service>>;

// The services' commands (SAVE, DUMP, MIGRATE, REPLICAOF, PSYNC, MC.WARM...), registered
// before the startup users load (acl/acl_file.h), so [security] users and an aclfile may
// name them, as Redis' `user replica on >pw +psync +replconf +ping`.
void RegisterServiceCommands(Host& host);
// Throws std::runtime_error when a service cannot start (e.g. a corrupt AOF).
Services StartServices(Host& host);
void StopServices(Host& host, Services& services);

}  // namespace ferrite::host

// ferrite-host: parse the command line, read the config, load plugins, serve.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "host/acl/acl_file.h"
#include "host/allocator.h"
#include "host/cli.h"
#include "host/config.h"
#include "host/host.h"
#include "host/logging.h"
#include "host/net.h"
#include "host/pidfile.h"
#include "host/server_commands.h"
#include "host/services.h"
#include "host/signals.h"
#include "host/systemd.h"

int main(int argc, char** argv) {
  using namespace ferrite::host;
  // As Redis: a closed peer is an EPIPE on that socket, never the end of the server.
  std::signal(SIGPIPE, SIG_IGN);
  // SIGHUP reopens the log file once the server runs (Server::WaitSignal); until then
  // (loading a large dataset) it must not kill the process, as it would by default.
  std::signal(SIGHUP, SIG_IGN);
  std::unique_ptr<Config> config;
  try {
    CliOptions cli = ParseCommandLine(argc, argv);
    config = std::make_unique<Config>();
    if (cli.help) {
      std::cout << HelpText(*config);
      return 0;
    }
    if (cli.version) {
      std::cout << "ferrite-host " << kFerriteVersion << " (Redis " << kRedisCompatVersion
                << " compatible, SDK ABI " << FERRITE_ABI_MAJOR << "." << FERRITE_ABI_MINOR
                << ")\n";
      return 0;
    }
    if (!cli.config_path.empty()) config->LoadFile(cli.config_path);
    for (auto& [k, v] : cli.overrides) config->Override(k, v);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ferrite-host: %s\n", e.what());
    return 2;
  }
  try {
    SetupLogging(*config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ferrite-host: logging: %s\n", e.what());
    return 2;
  }
  auto log = Logger("host");
  Signals::Start();  // before any other thread: they all inherit the blocked signals
  std::string supervised = InitSystemdNotify(config->String("server.supervised"));
  try {
    // Redis' jemalloc-bg-thread: freed pages go back to the OS on time, also when idle.
    StartAllocatorBackgroundThread();
    log->info("ferrite-host {} starting (pid {}, allocator {})", kFerriteVersion, getpid(),
              AllocatorName());
    PidFile pidfile(config->String("server.pidfile"));
    Host host(std::move(config));
    // Whatever way this scope ends (a startup error included), signals stop reaching
    // `host` before it is destroyed: a later SIGTERM exits at once.
    struct SignalsOff {
      ~SignalsOff() { Signals::Stopping(); }
    } signals_off;
    if (!supervised.empty()) log->info("{}", supervised);
    SystemdNotify("STATUS=Loading plugins");
    host.LoadConfiguredPlugins();
    // ACL users after every command exists (the plugins' and the services'), as Redis
    // loads them after its modules: rules may name any of them.
    RegisterServiceCommands(host);
    acl::LoadStartupUsers(host);
    Services services;
    {
      Server server(host);
      // The ports open before the dataset is loaded, as Redis': meanwhile clients get
      // -LOADING for every command not flagged `loading` (INFO, PING, ...).
      host.loading.Begin(host.clock().NowMs() / 1000, 0);
      // SIGINT/SIGTERM from here on: an orderly shutdown (during the load: the loader
      // stops, and the process exits without saving). Taken before the ports open, so
      // a client that saw -LOADING never races a signal into the "not up yet" exit.
      Signals::OnShutdown([&host](int sig) { host.RequestShutdown(sig); });
      server.Start();
      SystemdNotify("STATUS=Loading the dataset");
      try {
        services = StartServices(host);  // persistence (loads the data), replication
      } catch (const LoadInterrupted& e) {
        log->warn("{}: exiting without saving", e.what());
        SystemdNotify("STOPPING=1\nSTATUS=Shutting down (interrupted while loading)");
        return 0;  // Server's destructor stops the workers
      }
      host.loading.End();
      log->info("ready to accept connections");
      SystemdNotify("READY=1\nSTATUS=Ready to accept connections");
      server.Wait();
      Signals::Stopping();
    }
    SystemdNotify("STOPPING=1\nSTATUS=Shutting down");
    StopServices(host, services);
    log->info("bye");
  } catch (const std::exception& e) {
    log->critical("fatal: {}", e.what());
    SystemdNotify(std::string("STATUS=Fatal: ") + e.what());
    spdlog::shutdown();
    return 1;
  }
  spdlog::shutdown();
  return 0;
}

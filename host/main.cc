// ferrite-host: parse the command line, read the config, load plugins, serve.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "host/cli.h"
#include "host/config.h"
#include "host/host.h"
#include "host/logging.h"
#include "host/net.h"
#include "host/server_commands.h"
#include "host/services.h"

int main(int argc, char** argv) {
  using namespace ferrite::host;
  // As Redis: a closed peer is an EPIPE on that socket, never the end of the server; and
  // SIGHUP (a closed terminal, or logrotate's postrotate) must not end it while plugins
  // or data load, before the server's own SIGHUP handler (net.cc) is in place.
  std::signal(SIGPIPE, SIG_IGN);
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
  try {
    Host host(std::move(config));
    log->info("ferrite-host {} starting (pid {})", kFerriteVersion, getpid());
    host.LoadConfiguredPlugins();
    auto services = StartServices(host);  // persistence, replication (when present)
    {
      Server server(host);
      server.Start();
      log->info("ready to accept connections");
      server.Wait();
    }
    StopServices(host, services);
    log->info("bye");
  } catch (const std::exception& e) {
    log->critical("fatal: {}", e.what());
    spdlog::shutdown();
    return 1;
  }
  spdlog::shutdown();
  return 0;
}

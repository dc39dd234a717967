// systemd integration without libsystemd: the service notification protocol of
// sd_notify(3) spoken directly (one datagram per message to the unix socket named by
// $NOTIFY_SOCKET), for Type=notify units: READY=1 once the server serves, STATUS= lines
// while it loads and shuts down, STOPPING=1, and WATCHDOG=1 pings when the unit sets
// WatchdogSec=. Redis' `supervised` setting chooses whether to speak at all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferrite::host {

// Reads the environment once, per `mode` ("no", "systemd", "auto": as Redis, auto means
// systemd whenever $NOTIFY_SOCKET is set). Call before any thread starts. Returns a
// line for the log describing what was found ("" when not supervised).
std::string InitSystemdNotify(std::string_view mode);

// Sends `state` (newline-separated KEY=VALUE assignments) to the service manager; a
// no-op when not supervised. Thread-safe. Failures are logged once, never thrown.
void SystemdNotify(std::string_view state);

// For the cron: sends WATCHDOG=1 when half the watchdog interval has passed since the
// last ping (systemd's advice), so a server whose control loop stalls is restarted.
// No-op without WatchdogSec=.
void SystemdWatchdogTick();

// The watchdog interval systemd asked for, in microseconds (0 = none).
uint64_t SystemdWatchdogUsec();

}  // namespace ferrite::host

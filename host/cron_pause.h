// DEBUG PAUSE-CRON <0|1>: Redis' server.pause_cron, which stops the periodic cron
// (active expiry, eviction, blocked clients' timeouts, the tracking table's limit, ...)
// until it is set back to 0. Tests use it to keep the cron from doing first what they
// want a command to do.
#pragma once

namespace ferrite::host {

class Host;

void SetCronPaused(const Host* h, bool paused);
// One relaxed load while no host is paused.
bool CronPaused(const Host* h);

}  // namespace ferrite::host

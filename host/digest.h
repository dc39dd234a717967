// DEBUG DIGEST / DEBUG DIGEST-VALUE with Redis' algorithm (its debug.c: SHA1 mixing of
// key, type, value and an expire marker, XORed over keys), so a digest taken on Ferrite
// equals redis-server's for the same data: the replication tests compare a primary and
// its replicas with it, whichever side is redis-server.
#pragma once

#include <string>
#include <string_view>

namespace ferrite::host {

class Host;

// 40 hex digits ("000...0" for an empty dataset). The caller holds every shard lock.
std::string DatasetDigest(Host& h);
// The digest of one key's value in db (all zeros when the key does not exist). The
// caller holds the key's shard lock.
std::string ValueDigest(Host& h, int db, std::string_view key);

}  // namespace ferrite::host

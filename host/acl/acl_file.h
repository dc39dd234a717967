// The aclfile (redis.conf `user` line syntax) and the users ferrite.toml declares.
#pragma once

#include <string>
#include <string_view>

namespace ferrite::host {
class Host;
}

namespace ferrite::host::acl {

class Acl;

// ACL LOAD: "" or Redis' error text (without "ERR ").
std::string LoadAclFile(Acl& acl, const std::string& path);
// ACL SAVE: the users as ACL LIST shows them, written to a temporary file renamed over
// `path` (a crash leaves the old file whole). False after logging why.
bool SaveAclFile(Acl& acl, const std::string& path);
// Startup, after the plugins loaded (rules may name their commands): the aclfile, or
// [security] users. Throws std::runtime_error naming the problem.
void LoadStartupUsers(Host& h);

}  // namespace ferrite::host::acl

// INFO: sections with Redis' field names where one exists.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ferrite::host {

class Host;

// sections: empty = default set; "all", "everything", or names.
std::string BuildInfo(Host* h, const std::vector<std::string>& sections);

// Extra sections contributed by host services (persistence, replication): name → body.
void AddInfoSection(Host* h, std::string name, std::function<std::string()> body);
// Removes it again; once this returns, `body` is not running and will not be called.
void RemoveInfoSection(Host* h, const std::string& name);

}  // namespace ferrite::host

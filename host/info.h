// INFO: sections with Redis' field names where one exists.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::host {

class Host;

// sections: empty = default set; "all", "everything", or names.
std::string BuildInfo(Host* h, const std::vector<std::string>& sections);

// Extra sections contributed by host services (persistence, replication): name → body.
void AddInfoSection(Host* h, std::string name, std::function<std::string()> body);
// Removes it again; once this returns, `body` is not running and will not be called.
void RemoveInfoSection(Host* h, const std::string& name);

// A plugin's fields in a host section (SDK info_register_fields); false for a section
// that takes none. Removed by RemoveInfoFields (plugin unload): once it returns, `fn` is
// not running and will not be called.
bool AddInfoFields(Host* h, ferrite_plugin* p, std::string_view section,
                   void (*fn)(void*, ferrite_info*), void* udata);
void RemoveInfoFields(Host* h, ferrite_plugin* p);

}  // namespace ferrite::host

// SDK info_field.
void InfoField(ferrite_info* out, const char* name, const char* value);

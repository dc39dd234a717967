#include "host/acl/acl_file.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "host/acl/acl.h"
#include "host/host.h"
#include "host/logging.h"

namespace ferrite::host::acl {

std::string LoadAclFile(Acl& acl, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return "Error loading ACLs, opening file '" + path + "': " + std::strerror(errno);
  std::stringstream ss;
  ss << in.rdbuf();
  return acl.LoadText(ss.str(), path);
}

bool SaveAclFile(Acl& acl, const std::string& path) {
  std::string text;
  for (auto& line : acl.ListLines()) text += line + "\n";
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  bool ok = f && std::fwrite(text.data(), 1, text.size(), f) == text.size() &&
            std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  if (f) std::fclose(f);
  if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) ok = false;
  if (!ok) {
    Logger("host.acl")->warn("Failed to save the ACL file '{}': {}", path, std::strerror(errno));
    std::remove(tmp.c_str());
  }
  return ok;
}

void LoadStartupUsers(Host& h) {
  std::string file = h.config().String("security.aclfile");
  std::vector<std::string> users = h.config().StringList("security.users");
  if (!file.empty() && !users.empty())
    throw std::runtime_error(
        "Configuring users in [security] users and an aclfile at the same time is invalid: "
        "use one of them");
  if (!file.empty()) {
    std::string err = LoadAclFile(h.acl(), file);
    if (!err.empty()) throw std::runtime_error("aclfile: " + err);
    return;
  }
  for (const auto& entry : users) {
    std::vector<std::string> words;
    std::istringstream ws(entry);
    for (std::string w; ws >> w;) words.push_back(w);
    if (words.empty()) throw std::runtime_error("[security] users: an empty entry");
    std::string name = words[0];
    // As Redis' ACLLoadConfiguredUsers: a declared user starts from nothing ("reset"),
    // the default user included.
    words[0] = "reset";
    std::string err = h.acl().SetUser(name, words);
    if (!err.empty())
      throw std::runtime_error("[security] users: Error in user declaration '" + name +
                               "': " + err);
  }
}

}  // namespace ferrite::host::acl

// Built against the frozen v1.0 header (tests/abi/v1.0), whose API table is shorter
// than today's: the host's appended members must not disturb an old plugin.
#include "ferrite/module.h"

static const ferrite_host_api* g_api;

static int CmdV1(ferrite_ctx* ctx, int argc, const ferrite_slice* argv) {
  (void)argc;
  (void)argv;
  g_api->reply_simple(ctx, "v1", 2);
  return FERRITE_OK;
}

extern "C" FERRITE_EXPORT const ferrite_plugin_info* ferrite_plugin_describe(void) {
  static const ferrite_plugin_info info = {sizeof(ferrite_plugin_info), FERRITE_ABI_MAJOR, 0,
                                           "abi_v1_frozen", 1};
  return &info;
}

extern "C" FERRITE_EXPORT int ferrite_plugin_load(const ferrite_host_api* api, ferrite_plugin* p) {
  g_api = api;
  if (!FERRITE_HAS_API(api, conn_authenticate)) return FERRITE_ERR;
  ferrite_command_desc d = {};
  d.struct_size = sizeof d;
  d.name = "ABI.V1";
  d.arity = 1;
  d.flags = FERRITE_CMD_FAST;
  d.handler = CmdV1;
  return api->register_command(p, &d);
}

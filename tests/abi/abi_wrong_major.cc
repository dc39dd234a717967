// A plugin that claims ABI major 99: the host must refuse it with a precise message.
#include "ferrite/module.h"

extern "C" FERRITE_EXPORT const ferrite_plugin_info* ferrite_plugin_describe(void) {
  static const ferrite_plugin_info info = {sizeof(ferrite_plugin_info), 99, 0, "abi_wrong_major", 1};
  return &info;
}
extern "C" FERRITE_EXPORT int ferrite_plugin_load(const ferrite_host_api*, ferrite_plugin*) {
  return FERRITE_OK;
}

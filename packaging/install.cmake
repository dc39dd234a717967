# What `cmake --install` lays out and what `make deb` (CPack, DEB generator) packs.
# Two components, one per Debian package:
#   ferrite      ferrite-host, ferrite-migrate (tools/migrate), the bundled plugins,
#                /etc/ferrite/ferrite.toml, the systemd unit, sysusers.d / tmpfiles.d
#                entries, logrotate file, man page, docs
#   ferrite-dev  the SDK headers, the CMake package (find_package(Ferrite) -> Ferrite::sdk)
#                and ferrite-sdk.pc
# Everything is relative to the install prefix except the configuration, which follows
# GNUInstallDirs' rule for the *install-time* prefix: /usr -> /etc, anything else ->
# <prefix>/etc. (install(FILES ... DESTINATION etc) would give /usr/etc for --prefix /usr,
# because the relative destination is fixed at configure time.)
include(CMakePackageConfigHelpers)

set(FERRITE_PKG_DIR ${CMAKE_SOURCE_DIR}/packaging)
set(FERRITE_GEN_DIR ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${FERRITE_GEN_DIR})

# ------------------------------------------------------------------ ferrite (runtime) --
function(ferrite_install_sysconf src dest_subdir)
  install(CODE "
    if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
      set(_ferrite_etc \"/etc\")
    else()
      set(_ferrite_etc \"\${CMAKE_INSTALL_PREFIX}/etc\")
    endif()
    file(INSTALL DESTINATION \"\${_ferrite_etc}/${dest_subdir}\" TYPE FILE
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES \"${src}\")
    " COMPONENT ferrite)
endfunction()
ferrite_install_sysconf(${FERRITE_PKG_DIR}/ferrite.toml ferrite)
ferrite_install_sysconf(${FERRITE_PKG_DIR}/logrotate/ferrite logrotate.d)

install(FILES ${FERRITE_PKG_DIR}/ferrite.service DESTINATION lib/systemd/system COMPONENT ferrite)
install(FILES ${FERRITE_PKG_DIR}/sysusers.conf DESTINATION lib/sysusers.d RENAME ferrite.conf
        COMPONENT ferrite)
install(FILES ${FERRITE_PKG_DIR}/tmpfiles.conf DESTINATION lib/tmpfiles.d RENAME ferrite.conf
        COMPONENT ferrite)

# Debian wants man pages and changelogs gzip -9n compressed (no name, no timestamp, so
# the package is reproducible).
find_program(FERRITE_GZIP gzip REQUIRED)
function(ferrite_gzip src out)
  add_custom_command(OUTPUT ${out} DEPENDS ${src}
    COMMAND ${FERRITE_GZIP} -9nc ${src} > ${out} VERBATIM)
endfunction()
ferrite_gzip(${FERRITE_PKG_DIR}/ferrite-host.8 ${FERRITE_GEN_DIR}/ferrite-host.8.gz)
ferrite_gzip(${FERRITE_PKG_DIR}/debian/changelog ${FERRITE_GEN_DIR}/changelog.Debian.gz)
add_custom_target(ferrite_packaging_files ALL DEPENDS
  ${FERRITE_GEN_DIR}/ferrite-host.8.gz ${FERRITE_GEN_DIR}/changelog.Debian.gz)
install(FILES ${FERRITE_GEN_DIR}/ferrite-host.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
        COMPONENT ferrite)
foreach(_pkg ferrite ferrite-dev)
  install(FILES ${FERRITE_PKG_DIR}/debian/copyright ${FERRITE_GEN_DIR}/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${_pkg} COMPONENT ${_pkg})
endforeach()

# ------------------------------------------------------------------ ferrite-dev (SDK) --
# Arch-independent (headers and text only), hence share/ rather than lib/.
set(FERRITE_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/Ferrite)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/sdk/include/ferrite DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT ferrite-dev)
set_target_properties(ferrite_sdk PROPERTIES EXPORT_NAME sdk)
install(TARGETS ferrite_sdk EXPORT FerriteTargets COMPONENT ferrite-dev)
install(EXPORT FerriteTargets NAMESPACE Ferrite:: DESTINATION ${FERRITE_CMAKE_DIR}
        COMPONENT ferrite-dev)
configure_package_config_file(${FERRITE_PKG_DIR}/FerriteConfig.cmake.in
  ${FERRITE_GEN_DIR}/FerriteConfig.cmake INSTALL_DESTINATION ${FERRITE_CMAKE_DIR})
write_basic_package_version_file(${FERRITE_GEN_DIR}/FerriteConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${FERRITE_GEN_DIR}/FerriteConfig.cmake ${FERRITE_GEN_DIR}/FerriteConfigVersion.cmake
        DESTINATION ${FERRITE_CMAKE_DIR} COMPONENT ferrite-dev)
configure_file(${FERRITE_PKG_DIR}/ferrite-sdk.pc.in ${FERRITE_GEN_DIR}/ferrite-sdk.pc @ONLY)
install(FILES ${FERRITE_GEN_DIR}/ferrite-sdk.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig
        COMPONENT ferrite-dev)

# ----------------------------------------------------------------------- CPack (DEB) --
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ferrite)
set(CPACK_PACKAGE_VENDOR "Ferrite")
set(CPACK_PACKAGE_CONTACT "Ferrite maintainers <ferrite@example.org>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/deb)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)  # what CPACK_SET_DESTDIR installs under
# The configuration goes to /etc through an absolute file(INSTALL): CPack must then
# install with DESTDIR into its staging tree instead of rewriting the prefix.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ferrite ferrite-dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FERRITE_PACKAGE_NAME ferrite)
set(CPACK_DEBIAN_FERRITE_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FERRITE_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_FERRITE_PACKAGE_SUGGESTS "logrotate, redis-tools")
set(CPACK_DEBIAN_FERRITE_DESCRIPTION "in-memory data server speaking the Redis and memcached protocols
Ferrite serves the Redis protocol (RESP2/RESP3) and memcached's text, meta and
binary protocols over one shared keyspace, with Redis-compatible persistence
(RDB snapshots and AOF), pub/sub, Lua scripting and Redis' data types, all
provided by plugins loaded into a small host process.")
set(CPACK_DEBIAN_FERRITE_PACKAGE_CONTROL_EXTRA
  ${FERRITE_PKG_DIR}/debian/conffiles ${FERRITE_PKG_DIR}/debian/postinst
  ${FERRITE_PKG_DIR}/debian/prerm ${FERRITE_PKG_DIR}/debian/postrm)
set(CPACK_DEBIAN_FERRITE_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_FERRITE-DEV_PACKAGE_NAME ferrite-dev)
set(CPACK_DEBIAN_FERRITE-DEV_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_FERRITE-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_FERRITE-DEV_DESCRIPTION "SDK for Ferrite modules and protocol plugins
Headers of Ferrite's C ABI (ferrite/module.h) and its C++ layer
(ferrite/module.hpp), a CMake package (find_package(Ferrite), target
Ferrite::sdk, ferrite_add_module()) and a pkg-config file (ferrite-sdk), to
build command modules that ferrite-host loads with MODULE LOAD.")
include(CPack)

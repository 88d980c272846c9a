# `cpack -G DEB` in the build tree: one Debian package per component, so a broker host
# installs only the plugin. Dependencies on shared libraries come from dpkg-shlibdeps
# (package dpkg-dev); the version is the CMake project version.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mosquitto-token-auth)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR mosquitto-token-auth)
set(TKA_PACKAGE_MAINTAINER "mosquitto-token-auth maintainers <maintainers@mosquitto-token-auth.invalid>"
    CACHE STRING "Maintainer field of the Debian packages")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TKA_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>_<arch>.deb
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL plugin tokend tokenctl)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)

set(CPACK_DEBIAN_PLUGIN_PACKAGE_NAME mosquitto-token-auth-plugin)
set(CPACK_DEBIAN_PLUGIN_PACKAGE_DEPENDS "mosquitto (>= 2.0.11)")
set(CPACK_DEBIAN_PLUGIN_PACKAGE_SUGGESTS "mosquitto-token-auth-tokend, mosquitto-token-auth-tokenctl, redis-server")
set(CPACK_DEBIAN_PLUGIN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_BINARY_DIR}/deb/plugin/conffiles)
set(CPACK_DEBIAN_PLUGIN_DESCRIPTION "short-lived token authentication plugin for Mosquitto
mosquitto_token_auth.so checks user_id@org_id with a tkn_ password on CONNECT
against Redis, closes connections when their token expires or is revoked, and
confines token clients to their organization's topics. Tokens are minted by
tokend. The example /etc/mosquitto/conf.d/token-auth.conf.example is inactive
until copied to a .conf file.")

set(CPACK_DEBIAN_TOKEND_PACKAGE_NAME mosquitto-token-auth-tokend)
set(CPACK_DEBIAN_TOKEND_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_TOKEND_PACKAGE_RECOMMENDS "redis-server (>= 5:7.0)")
set(CPACK_DEBIAN_TOKEND_PACKAGE_SUGGESTS "mosquitto-token-auth-tokenctl")
set(CPACK_DEBIAN_TOKEND_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_BINARY_DIR}/deb/tokend/conffiles
    ${CMAKE_CURRENT_SOURCE_DIR}/deb/tokend/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/deb/tokend/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/deb/tokend/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # maintainer scripts 0755
set(CPACK_DEBIAN_TOKEND_DESCRIPTION "HTTP(S) service minting short-lived MQTT tokens
tokend mints, refreshes and revokes the tokens the mosquitto-token-auth broker
plugin accepts, for backends that hold an organization's secret key. It runs as
the tokend.service system service, configured in /etc/default/tokend, and is not
started on installation.")

set(CPACK_DEBIAN_TOKENCTL_PACKAGE_NAME mosquitto-token-auth-tokenctl)
set(CPACK_DEBIAN_TOKENCTL_DESCRIPTION "operator command line for mosquitto-token-auth
tokenctl creates organizations and secret keys, switches token authentication
on and off, sets token lifetimes, and lists and revokes tokens, directly in
Redis.")

configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cpack_prefix_check.cmake.in
               ${CMAKE_CURRENT_BINARY_DIR}/cpack_prefix_check.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_BINARY_DIR}/cpack_prefix_check.cmake)

include(CPack)

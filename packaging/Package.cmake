# The Debian package (scripts/package): install rules for everything the
# package ships and CPack's DEB generator. The version is project()'s, the
# same the binary prints; dpkg-shlibdeps derives Depends from the binary.
# Included from CMakeLists.txt; builds nothing unless asked (target
# package_files, then `cpack`).

set(pkg_src ${CMAKE_SOURCE_DIR}/packaging)
# `cpack` installs without building `all` first (tests, tools, benchmarks):
# scripts/package builds what the package holds (package_files).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(pkg_out ${CMAKE_BINARY_DIR}/packaging)
# Reproducible dates when SOURCE_DATE_EPOCH is set (string(TIMESTAMP) honours it).
string(TIMESTAMP WGPUNCH_DATE "%Y-%m-%d" UTC)
string(TIMESTAMP WGPUNCH_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)

# Man pages and the changelog: the version filled in, then gzip -9n (no
# name or time in the header) as Debian policy wants.
set(pkg_gz)
foreach(pair "wgpunch.8.in;wgpunch.8" "wgpunch.conf.5.in;wgpunch.conf.5" "debian/changelog.in;changelog")
  list(GET pair 0 in)
  list(GET pair 1 out)
  configure_file(${pkg_src}/${in} ${pkg_out}/${out} @ONLY)
  add_custom_command(OUTPUT ${pkg_out}/${out}.gz
                     COMMAND gzip -9nkf ${pkg_out}/${out}
                     DEPENDS ${pkg_out}/${out} VERBATIM)
  list(APPEND pkg_gz ${pkg_out}/${out}.gz)
endforeach()
add_custom_target(package_files DEPENDS wgpunch ${pkg_gz})

# Full RELRO (bind now), as Debian's hardening flags give; link-time only.
target_link_options(wgpunch PRIVATE -Wl,-z,relro,-z,now)
install(TARGETS wgpunch RUNTIME DESTINATION bin)
install(FILES ${pkg_src}/wgpunch@.service ${pkg_src}/wgpunch.target
        DESTINATION /lib/systemd/system)
install(FILES ${pkg_src}/wgpunch.sysusers DESTINATION lib/sysusers.d RENAME wgpunch.conf)
install(FILES ${pkg_out}/wgpunch.8.gz DESTINATION share/man/man8)
install(FILES ${pkg_out}/wgpunch.conf.5.gz DESTINATION share/man/man5)
install(FILES ${pkg_src}/wgpunch.bash-completion DESTINATION share/bash-completion/completions
        RENAME wgpunch)
install(FILES ${pkg_src}/debian/copyright ${pkg_out}/changelog.gz DESTINATION share/doc/wgpunch)
install(FILES ${pkg_src}/wg0.conf.example DESTINATION share/doc/wgpunch/examples RENAME wg0.conf)
install(FILES ${CMAKE_SOURCE_DIR}/examples/registry.conf ${CMAKE_SOURCE_DIR}/examples/node.conf
        DESTINATION share/doc/wgpunch/examples)
install(FILES ${pkg_src}/debian/lintian-overrides DESTINATION share/lintian/overrides
        RENAME wgpunch)
install(DIRECTORY DESTINATION /etc/wgpunch)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME wgpunch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # wgpunch_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "wgpunch maintainers <wgpunch@lists.wgpunch.net>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst creates the service user with systemd-sysusers; postrm removes it
# with userdel/groupdel (passwd).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers | systemd-sysusers, passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "wireguard-tools")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "userspace WireGuard node that punches through NATs")
# The extended description; CPack puts the summary above it and indents it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "wgpunch is a complete WireGuard node in one process: TUN device, the
WireGuard protocol (compatible with the kernel module and wireguard-go) and
the userspace API that the wg tool speaks. Nodes behind NATs find each other
through a registry's DNS-SD records, served on the WireGuard port itself,
and punch a direct tunnel.

The package has the wgpunch@.service systemd unit (one node per
/etc/wgpunch/IFACE.conf, sandboxed, running as the wgpunch user once set
up), manual pages, bash completion and Prometheus metrics.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${pkg_src}/debian/postinst ${pkg_src}/debian/prerm ${pkg_src}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

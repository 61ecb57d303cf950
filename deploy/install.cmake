# `cmake --install` and the Debian package (README "Install"), included by
# the top CMakeLists.txt. FHS paths from GNUInstallDirs: configured with
# -DCMAKE_INSTALL_PREFIX=/usr (deploy/setup.sh does) the programs go to
# /usr/bin, libeventflow to /usr/lib/<triplet>, its headers to
# /usr/include/eventflow, the example configs to /etc/eventflow, the units
# to /usr/lib/systemd/system, and /var/lib/eventflow is made; with another
# prefix every one of them moves under it. The package (cpack -G DEB) holds
# the same files; its maintainer scripts (deploy/debian) create the system
# user `eventflow` and its data dir, and enable nothing.
include(GNUInstallDirs)
set(EF_CONF_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/eventflow)
set(EF_DATA_DIR ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/eventflow)
set(EF_UNIT_DIR lib/systemd/system)

install(TARGETS eventflow-broker eventflow-bridge eventflow-cli
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS eventflow ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/clients/c/include/eventflow
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
configure_file(${PROJECT_SOURCE_DIR}/clients/c/eventflow.pc.in
  ${CMAKE_BINARY_DIR}/eventflow.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/eventflow.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The example configs (every option commented out at its default) are the
# files the units read; the package marks them conffiles.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/eventflow-broker.conf.example
  DESTINATION ${EF_CONF_DIR} RENAME eventflow-broker.conf)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/eventflow-bridge.conf.example
  DESTINATION ${EF_CONF_DIR} RENAME eventflow-bridge.conf)
install(DIRECTORY DESTINATION ${EF_DATA_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The units in deploy/systemd name the /usr, /etc and /var paths; another
# prefix gets them rewritten to its own.
foreach(unit eventflow-broker.service eventflow-bridge@.service)
  file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/${unit} text)
  string(REPLACE "/usr/bin/" "${CMAKE_INSTALL_FULL_BINDIR}/" text "${text}")
  string(REPLACE "/etc/eventflow" "${EF_CONF_DIR}" text "${text}")
  string(REPLACE "/var/lib/eventflow" "${EF_DATA_DIR}" text "${text}")
  string(REPLACE "/usr/share/doc/eventflow" "${CMAKE_INSTALL_FULL_DOCDIR}"
    text "${text}")
  file(WRITE ${CMAKE_BINARY_DIR}/systemd/${unit} "${text}")
  install(FILES ${CMAKE_BINARY_DIR}/systemd/${unit} DESTINATION ${EF_UNIT_DIR})
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/deploy/systemd/eventflow-broker.service
  ${PROJECT_SOURCE_DIR}/deploy/systemd/eventflow-bridge@.service)

# The Debian package: `cd build && cpack -G DEB` (-B DIR: where it goes).
set(EF_DEBIAN ${CMAKE_BINARY_DIR}/debian)
file(WRITE ${EF_DEBIAN}/conffiles
  "${EF_CONF_DIR}/eventflow-broker.conf\n${EF_CONF_DIR}/eventflow-bridge.conf\n")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/${script}
    ${EF_DEBIAN}/${script} @ONLY
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
    GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME eventflow)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "event ingestion and delivery server (broker, HTTP bridge, CLI, library)")
set(CPACK_PACKAGE_CONTACT "EventFlow engineers <eventflow@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${EF_DEBIAN}/conffiles
  ${EF_DEBIAN}/postinst ${EF_DEBIAN}/prerm ${EF_DEBIAN}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)

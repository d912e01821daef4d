/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The version rstwatch reports (--version, status, rstwatch_build_info); the
 * Debian package's version (debian/changelog) is checked against it. */
#ifndef RSTWATCH_VERSION_H
#define RSTWATCH_VERSION_H

#define RSTWATCH_VERSION "0.1.0"

#endif

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make install / make uninstall into a DESTDIR, and plain `make` as a user who
# cannot apt-get: with the build libraries present it never calls apt-get and
# never asks for the test packages.
set -u
cd "$(dirname "$0")/../.."
[ -x build/rstwatch ] || { echo "skip: build/rstwatch not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --- install, reinstall over an edited config, uninstall ----------------------
d=$tmp/root
make -s install DESTDIR="$d" PREFIX=/usr UNITDIR=/lib/systemd/system >"$tmp/install.out" 2>&1 ||
	bad "make install: $(cat "$tmp/install.out")"
for f in usr/sbin/rstwatch usr/share/man/man8/rstwatch.8 usr/share/man/man5/rstwatch.conf.5 \
	 lib/systemd/system/rstwatch.service etc/logrotate.d/rstwatch etc/rstwatch/rstwatch.conf; do
	[ -f "$d/$f" ] || bad "make install did not install /$f"
done
[ -d "$d/var/log/rstwatch" ] || bad "make install did not create /var/log/rstwatch"
grep -q '^ExecStart=/usr/sbin/rstwatch run --config /etc/rstwatch/rstwatch.conf$' \
	"$d/lib/systemd/system/rstwatch.service" || bad "installed unit's ExecStart: $(grep ExecStart "$d/lib/systemd/system/rstwatch.service")"
"$d/usr/sbin/rstwatch" --version | grep -q '^rstwatch ' || bad "installed binary does not run"
"$d/usr/sbin/rstwatch" rules print --config "$d/etc/rstwatch/rstwatch.conf" >/dev/null ||
	bad "installed config is refused"
echo '# mine' >>"$d/etc/rstwatch/rstwatch.conf"
make -s install DESTDIR="$d" PREFIX=/usr UNITDIR=/lib/systemd/system >"$tmp/install.out" 2>&1
grep -q '# mine' "$d/etc/rstwatch/rstwatch.conf" || bad "a second make install overwrote the edited config"
make -s uninstall DESTDIR="$d" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null 2>&1 || bad "make uninstall"
left=$(cd "$d" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./etc/rstwatch/rstwatch.conf " ] || bad "after make uninstall left: $left"
# The default PREFIX: /usr/local, unit in /etc/systemd/system, path as in the source.
make -s install DESTDIR="$tmp/local" >/dev/null 2>&1 || bad "make install with the defaults"
[ -x "$tmp/local/usr/local/sbin/rstwatch" ] && [ -f "$tmp/local/usr/local/share/man/man8/rstwatch.8" ] &&
	grep -q '^ExecStart=/usr/local/sbin/rstwatch ' "$tmp/local/etc/systemd/system/rstwatch.service" ||
	bad "default PREFIX /usr/local layout"

# --- plain make as a user who cannot apt-get ---------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	src=$tmp/src
	mkdir -p "$src/fakebin"
	git ls-files -z | xargs -0 cp --parents -t "$src"
	for tool in apt-get apt; do
		printf '#!/bin/sh\necho "%s $*" >>%s/apt-called\nexit 1\n' "$tool" "$src" >"$src/fakebin/$tool"
		chmod +x "$src/fakebin/$tool"
	done
	chown -R 65534:65534 "$src"
	chmod 755 "$tmp"
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		env -i PATH="$src/fakebin:/usr/bin:/bin" HOME="$src" "$@"; }
	out=$(as_nobody make -C "$src" deps 2>&1) || bad "make deps as nobody with the libraries present: $out"
	[ ! -e "$src/apt-called" ] || bad "make deps as nobody called: $(cat "$src/apt-called")"
	[ ! -e "$src/build/.deps-test-ok" ] || bad "plain make checked the test packages"
	# Without the libraries (pkg-config sees none): one clear message, no apt-get.
	rm -rf "$src/build"
	out=$(as_nobody PKG_CONFIG_LIBDIR=/nonexistent make -C "$src" deps 2>&1) &&
		bad "make deps without libraries succeeded: $out"
	[ ! -e "$src/apt-called" ] || bad "make deps as nobody called: $(cat "$src/apt-called")"
	grep -q 'pkg-config cannot find\|run as root to install' <<<"$out" || bad "make deps without libraries said: $out"
else
	echo "note: not root, plain-make-as-nobody part skipped"
fi

if [ "$failures" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$failures" -eq 0 ]

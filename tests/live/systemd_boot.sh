#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd_boot.sh BINARY UNIT CONFIG: run as PID 1 of fresh pid, mount, net, uts and ipc
# namespaces (t-systemd.sh starts it with unshare): stage the three files,
# hide every writable tree of the host that systemd or the unit could write
# behind a tmpfs of its own (/run, /tmp, /var/*, /etc/systemd/system, ...),
# install the unit as /etc/systemd/system/rstwatch.service with the binary and
# its config in /opt/rstwatch (ExecStart's paths changed, nothing else), and
# exec systemd with a target that wants only it.
# Neither the target nor the service pulls sysinit.target: its services
# (systemd-tmpfiles --remove above all) would clean trees this machine
# shares. Never run this outside such namespaces.
set -euo pipefail
[ $$ = 1 ] || { echo "systemd_boot.sh: must be PID 1 of its own namespaces" >&2; exit 1; }
bin=$1 unit=$2 conf=$3
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mkdir -p /run/stage /run/lock
cp "$bin" /run/stage/rstwatch
cp "$unit" /run/stage/rstwatch.service
cp "$conf" /run/stage/rstwatch.conf
for d in /tmp /var/tmp /var/log /var/lib /var/cache /var/spool /etc/systemd/system /opt /root \
	/home /srv /mnt /media /work; do
	if [ -d "$d" ]; then mount -t tmpfs tmpfs "$d"; fi
done
mkdir -p /opt/rstwatch /etc/systemd/system/smoke.target.wants /etc/systemd/system/rstwatch.service.d
cp /run/stage/rstwatch /opt/rstwatch/rstwatch
cp /run/stage/rstwatch.conf /opt/rstwatch/rstwatch.conf
sed -E 's#^ExecStart=[^ ]+ run --config [^ ]+#ExecStart=/opt/rstwatch/rstwatch run --config /opt/rstwatch/rstwatch.conf#' \
	/run/stage/rstwatch.service >/etc/systemd/system/rstwatch.service
grep -q '^ExecStart=/opt/rstwatch/rstwatch run --config /opt/rstwatch/rstwatch.conf' \
	/etc/systemd/system/rstwatch.service || { echo "systemd_boot.sh: unexpected ExecStart in $unit" >&2; exit 1; }
printf '[Unit]\nDefaultDependencies=no\n' >/etc/systemd/system/rstwatch.service.d/smoke.conf
printf '[Unit]\nDescription=rstwatch under systemd, alone\nDefaultDependencies=no\n' \
	>/etc/systemd/system/smoke.target
ln -s ../rstwatch.service /etc/systemd/system/smoke.target.wants/rstwatch.service
export container=rstwatch-test
exec /lib/systemd/systemd --system --unit=smoke.target --log-target=console --show-status=no

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd_boot.sh BINARY UNIT CONFIG: run as PID 1 of fresh pid, mount, net, uts and ipc
# namespaces (t-systemd.sh starts it with unshare): stage the three files,
# hide every writable tree of the host that systemd or the unit could write
# behind a tmpfs of its own (/run, /dev, /tmp, /var/*, /etc/systemd/system...),
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
# A /dev of its own: the host's devtmpfs is shared (systemd would create
# /dev/initctl and friends there and log to the host's console). Its console
# is /dev/null.
mount -t tmpfs -o mode=755 tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
mknod -m 600 /dev/console c 1 3
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
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
exec /lib/systemd/systemd --system --unit=smoke.target --log-target=null --show-status=no

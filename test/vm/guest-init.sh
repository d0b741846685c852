#!/bin/sh
# PID 1 in the guest. Mounts what bpftrace and the lab need, runs /job.sh, ships /results over
# the second serial port (ttyS1, a file on the host), then powers off through sysrq (minbase has
# no poweroff). Frames: "@@BOOTED <release>", "@@LOG <text>", "@@BEGIN <name>" / base64 lines /
# "@@END <name>", "@@RC <rc>", "@@DONE".
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp /run /results
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
ulimit -l unlimited
for m in /usr/lib/modules-extra/*; do [ -e "$m" ] && insmod "$m" 2>/dev/null; done
echo 1 > /proc/sys/kernel/sysrq
# Raw mode: no CR/LF mangling of what we send to the host.
stty -F /dev/ttyS1 raw -echo 115200 2>/dev/null

# Helpers, also for the job: `progress TEXT` shows in the host's log while the guest runs;
# `send_result FILE` ships a finished result at once, so a later hang loses nothing.
cat > /etc/guest-lib.sh <<'LIB'
progress() { echo "@@LOG $*" > /dev/ttyS1; }
send() {
  echo "@@BEGIN $1" > /dev/ttyS1
  base64 -w 76 "$2" > /dev/ttyS1
  echo "@@END $1" > /dev/ttyS1
}
send_result() {
  [ -f "$1" ] || return 0
  send "$(basename "$1")" "$1"
  mkdir -p /results-sent && mv "$1" /results-sent/
}
LIB
. /etc/guest-lib.sh

echo "@@BOOTED $(uname -r)" > /dev/ttyS1
sh -c '. /etc/guest-lib.sh; . /job.sh' > /tmp/job.log 2>&1
rc=$?
send job.log /tmp/job.log
for f in /results/*; do send_result "$f"; done
echo "@@RC $rc" > /dev/ttyS1
echo "@@DONE" > /dev/ttyS1
sync
echo o > /proc/sysrq-trigger
sleep 30

#!/bin/sh
# PID 1 in the guest. Mounts what bpftrace and the lab need, runs /job.sh with its output framed
# on the second serial port (ttyS1, a host file), then powers off through sysrq (minbase has no
# poweroff). Frames: "@@BEGIN <name>" / base64 lines / "@@END <name>", "@@RC <rc>", "@@DONE".
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp /run
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

OUT=/dev/ttyS1
# Raw mode: no CR/LF mangling of what we send to the host.
stty -F $OUT raw -echo 115200 2>/dev/null

# send NAME FILE: a file, base64 so any byte survives the serial line.
send() {
  echo "@@BEGIN $1" > $OUT
  base64 -w 76 "$2" > $OUT
  echo "@@END $1" > $OUT
}

echo "@@BOOTED $(uname -r)" > $OUT
# For the job: `progress TEXT` shows up in the host's log while the guest runs.
echo 'progress() { echo "@@LOG $*" > /dev/ttyS1; }' > /etc/progress.sh
sh -c '. /etc/progress.sh; . /job.sh' > /tmp/job.log 2>&1
rc=$?
send job.log /tmp/job.log
for f in /results/*; do [ -f "$f" ] && send "$(basename "$f")" "$f"; done
echo "@@RC $rc" > $OUT
echo "@@DONE" > $OUT
sync
echo o > /proc/sysrq-trigger
sleep 30

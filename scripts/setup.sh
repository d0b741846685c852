#!/bin/sh
# Installs what exetrace needs on a fresh Debian/Ubuntu machine (run as root):
# bpftrace, nats-server, prometheus and openssl (the fleet tests) and test tools from apt, tracefs mounted, npm dependencies, and a build.
set -eu
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: exetrace needs Node.js >= 20 (found: $(node --version 2>/dev/null || echo none)); Debian 12's nodejs is 18, install a newer one first" >&2
  exit 1
fi

need_apt=""
# git, make and python3: the real-workload live test (test/live/real-workload.test.ts) runs them.
for pkg in bpftrace tmux gcc libc6-dev make git python3 chromium nats-server prometheus openssl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt="$need_apt $pkg"
done
if [ -n "${EXETRACE_WITH_VM:-}" ]; then
  for pkg in qemu-system-x86 debootstrap cpio zstd; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt="$need_apt $pkg"
  done
fi
if [ -n "$need_apt" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages:$need_apt; run as root or: sudo apt-get install -y$need_apt" >&2
    exit 1
  fi
  echo "setup: installing$need_apt" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

# bpftrace needs tracefs; some containers and minimal hosts do not mount it.
if [ "$(id -u)" -eq 0 ] && [ ! -e /sys/kernel/tracing/events ] && [ ! -e /sys/kernel/debug/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || echo "setup: could not mount tracefs; live tracing will be unavailable" >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build

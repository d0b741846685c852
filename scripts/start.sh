#!/bin/sh
# npm start: the live dashboard when this host can trace (root, bpftrace, tracefs); otherwise
# say why and replay the bundled sample trace into the same dashboard.
# Runs the built CLI when present (npm run build), else the sources through tsx.
set -u
cd "$(dirname "$0")/.." || exit 1

SAMPLE=samples/lab.trace.jsonl
if [ -f dist/bundle/main.js ]; then
  set -- node dist/bundle/main.js
else
  set -- node --import tsx src/cli/main.ts
fi

why_not_live() {
  if [ "$(id -u)" != 0 ]; then echo "not running as root (bpftrace needs root: try sudo npm start)"; return; fi
  if ! command -v bpftrace >/dev/null 2>&1; then echo "bpftrace is not installed (apt-get install bpftrace)"; return; fi
  if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
    # Mounting tracefs is what `exetrace live` would do too; try it before giving up.
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
    if [ ! -d /sys/kernel/tracing/events ]; then echo "tracefs is not mounted and could not be (mount -t tracefs nodev /sys/kernel/tracing)"; return; fi
  fi
  echo ""
}

reason=$(why_not_live)
if [ -z "$reason" ]; then
  exec "$@" live
fi

echo "exetrace: cannot trace this host live: $reason" >&2
if [ ! -f "$SAMPLE" ]; then
  echo "exetrace: and the bundled sample trace $SAMPLE is missing, so there is nothing to replay." >&2
  echo "exetrace: record one with: sudo exetrace record --out $SAMPLE (see test/lab/README.md)" >&2
  exit 1
fi
echo "exetrace: replaying the bundled sample trace $SAMPLE instead (q quits)" >&2
sleep 2 # let the reason be read before the dashboard takes the screen
exec "$@" replay "$SAMPLE" --speed 5

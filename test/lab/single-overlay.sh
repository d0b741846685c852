#!/bin/sh
# exe-upper-layer and its negative: run BINARY from a single overlay, either as shipped in the
# lower layer ("lower") or written into the merged view after mounting, which puts it in the
# upper (writable) layer ("upper") -- a binary dropped into a container after it started.
# Meant to run inside `unshare -m --propagation private` (the mount vanishes with the program).
# usage: single-overlay.sh WORKDIR BINARY lower|upper [ARGS...]
set -eu
dir=$1
bin=$2
layer=$3
shift 3
mkdir -p "$dir/lower" "$dir/upper" "$dir/work" "$dir/merged"
cp "$bin" "$dir/lower/prog"
chmod 0755 "$dir/lower/prog"
mount -t overlay overlay -o "lowerdir=$dir/lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged"
target="$dir/merged/prog"
if [ "$layer" = upper ]; then
  target="$dir/merged/dropped"
  cp "$bin" "$target"
  chmod 0755 "$target"
fi
echo "fact stat_target $(stat -c '%d %i' "$target")"
echo "fact sbdev $(stat -c '%d' "$dir/merged")"
echo "fact in_upper $(ls "$dir/upper" | tr '\n' ' ')"
exec "$target" "$@"

#!/bin/sh
# stacked-fs: run BINARY from an overlay whose lower layer is another overlay.
# Meant to run inside `unshare -m --propagation private`: the mounts belong to a private mount
# namespace and vanish when the program (which replaces this shell) exits.
# usage: nested-overlay.sh WORKDIR BINARY [ARGS...]
set -eu
dir=$1
bin=$2
shift 2
mkdir -p "$dir/lower" "$dir/upper1" "$dir/work1" "$dir/inner" "$dir/upper2" "$dir/work2" "$dir/outer"
cp "$bin" "$dir/lower/lowbin"
chmod 0755 "$dir/lower/lowbin"
mount -t overlay overlay -o "lowerdir=$dir/lower,upperdir=$dir/upper1,workdir=$dir/work1" "$dir/inner"
mount -t overlay overlay -o "lowerdir=$dir/inner,upperdir=$dir/upper2,workdir=$dir/work2" "$dir/outer"
for layer in lower inner outer; do
  echo "fact stat_$layer $(stat -c '%d %i' "$dir/$layer/lowbin")"
done
# A directory's st_dev is the overlay's own superblock device; a file's may be a per-layer
# pseudo device (outer: its layers sit on different filesystems). BPF sees the superblock's.
for layer in inner outer; do
  echo "fact sbdev_$layer $(stat -c '%d' "$dir/$layer")"
done
echo "fact outer_path $dir/outer/lowbin"
exec "$dir/outer/lowbin" "$@"

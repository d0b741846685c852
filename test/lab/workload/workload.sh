#!/bin/sh
# A real workload for the zero-false-positive live test (test/live/real-workload.test.ts): a
# parallel build of a real multi-file C project, git, python3, node, shell pipelines, and
# programs run from a single overlay (one shipped in the lower layer, one dropped in the upper).
# usage: workload.sh WORKDIR LABDIR
set -eu
dir=$1
lab=$2

# 1. make -j2 of a 60-module C project, four clean builds (gcc, cc1, as, collect2, ld per file).
sh "$lab/workload/gen-project.sh" "$dir/proj" 60
for build in 1 2 3 4; do
  make -s -C "$dir/proj" clean
  make -s -j2 -C "$dir/proj"
  "$dir/proj/app" > /dev/null
done

# 2. git: a repository with a history, and the everyday read commands.
git init -q "$dir/repo"
cd "$dir/repo"
git config user.email lab@example.invalid
git config user.name lab
for i in $(seq 1 15); do
  echo "change $i" > "file$i.txt"
  git add "file$i.txt"
  git commit -q -m "change $i"
done
git log --oneline | wc -l > /dev/null
git status --short > /dev/null
git diff HEAD~3 --stat > /dev/null
cd "$dir"

# 3. python3 and 4. node, each starting processes.
python3 -c 'import subprocess
for _ in range(200): subprocess.run(["/bin/true"], check=True)'
node -e 'const { execFileSync } = require("node:child_process"); for (let i = 0; i < 200; i++) execFileSync("/bin/true")'

# 5. shell pipelines.
for i in $(seq 1 300); do
  echo "line $i" | tr a-z A-Z | sed 's/LINE/x/' | wc -c > /dev/null
done

# 6. a single overlay: ls shipped in the lower layer, and a copy dropped into the upper layer.
mkdir -p "$dir/ov/lower" "$dir/ov/upper" "$dir/ov/work" "$dir/ov/merged"
cp /bin/ls "$dir/ov/lower/prog"
unshare -m --propagation private sh -c '
  set -eu
  ov=$1
  mount -t overlay overlay -o "lowerdir=$ov/lower,upperdir=$ov/upper,workdir=$ov/work" "$ov/merged"
  cp /bin/ls "$ov/merged/dropped"
  for i in $(seq 1 50); do "$ov/merged/prog" / > /dev/null; "$ov/merged/dropped" / > /dev/null; done
' sh "$dir/ov"

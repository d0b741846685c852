#!/bin/sh
# Writes a small real multi-file C project into DIR: N modules that call each other through a
# header, a main, and a Makefile with per-object rules (so make -j2 runs gcc, cc1 and as per file).
# usage: gen-project.sh DIR N
set -eu
dir=$1
n=$2
mkdir -p "$dir/src"
: > "$dir/src/mods.h"
i=1
while [ "$i" -le "$n" ]; do
  echo "int mod$i(int x);" >> "$dir/src/mods.h"
  prev=$((i - 1))
  if [ "$prev" -ge 1 ]; then call="mod$prev(x) + $i"; else call="x + 1"; fi
  cat > "$dir/src/mod$i.c" <<C
#include "mods.h"
int mod$i(int x) { return x > 1000000 ? x : $call; }
C
  i=$((i + 1))
done
cat > "$dir/src/main.c" <<C
#include <stdio.h>
#include "mods.h"
int main(void) { printf("%d\n", mod$n(1)); return 0; }
C
objs=""
i=1
while [ "$i" -le "$n" ]; do objs="$objs src/mod$i.o"; i=$((i + 1)); done
{
  echo "OBJS = src/main.o$objs"
  echo "app: \$(OBJS)"
  printf '\t$(CC) -o $@ $(OBJS)\n'
  echo "src/%.o: src/%.c src/mods.h"
  printf '\t$(CC) -O1 -c -o $@ $<\n'
  echo "clean:"
  printf '\trm -f app $(OBJS)\n'
} > "$dir/Makefile"

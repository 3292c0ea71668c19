#!/usr/bin/env bash
# Builds powerfs (a FUSE 3 filesystem for power-cut tests) into build/powerfs. Idempotent: does
# nothing when the binary is newer than every source. Needs gcc, pkg-config and libfuse3-dev
# (Debian: apt-get install -y gcc pkg-config libfuse3-dev fuse3).
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
out="$dir/build/powerfs"
sources=("$dir"/*.c "$dir"/*.h "$dir/build.sh")
for tool in gcc pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || { echo "powerfs build: $tool is missing (apt-get install -y $tool)" >&2; exit 1; }
done
pkg-config --exists fuse3 || { echo "powerfs build: libfuse3 development files are missing (apt-get install -y libfuse3-dev)" >&2; exit 1; }
if [ -x "$out" ]; then
  fresh=1
  for s in "${sources[@]}"; do [ "$s" -nt "$out" ] && fresh=0; done
  [ $fresh -eq 1 ] && exit 0
fi
mkdir -p "$dir/build"
tmp="$out.tmp.$$"
# shellcheck disable=SC2046
gcc -std=gnu11 -O2 -g -Wall -Wextra -Wno-format-truncation -o "$tmp" "$dir"/*.c $(pkg-config --cflags --libs fuse3) -lpthread
mv -f "$tmp" "$out"
echo "powerfs build: built $out" >&2

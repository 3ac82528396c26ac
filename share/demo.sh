#!/bin/bash
# make demo: build stitch and run its main job on the bundled index, in a
# throw-away root so nothing of the user's is touched.
set -e
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
s() { echo "\$ stitch $*"; ./stitch --root "$root" "$@"; echo; }

s --version
s repo list
n=$(./stitch --root "$root" search '' 2>/dev/null | wc -l || true)
echo "the bundled index holds $n package(s)"
echo
if [ "$n" -gt 0 ]; then
	s search ''
	first=$(./stitch --root "$root" search '' | awk 'NR==1 {print $1}')
	s show "$first"
fi
s repo export repo-index "$root/index.json.gz"
ls -l "$root/index.json.gz"

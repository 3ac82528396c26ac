#!/bin/bash
# Repositories that are damaged: a corrupt compiled index is never used,
# a malformed package or version is dropped with a warning naming
# file:line:column while the rest loads, and `stitch repo check` lists
# every problem for the repository's maintainer.
. "$(dirname "$0")/testlib.sh"

# A quick run of tests/torture/index-corrupt.sh (200 corruptions there).
out=$(STITCH_TOP=$TOP bash "$TOP/tests/torture/index-corrupt.sh" 20 7 2>&1)
rc=$?
summary=$(printf '%s\n' "$out" | tail -n 1)
if [ $rc -eq 0 ] && [ "$summary" = "corruptions: 20, caught/rebuilt: 20, wrong answers: 0" ]; then
	pass "20 corruptions of the compiled index: all caught and rebuilt"
else
	printf '%s\n' "$out" | grep -v '^#   ' | tail -n 8 | sed 's/^/# /'
	fail "20 corruptions of the compiled index: all caught and rebuilt" "exit $rc: $summary"
fi

#!/bin/sh
# Run regression test $1 and the suite after fix round $2. Prints {"passed": ..., "round": ...}.
# The stand-in passes from the second round on, so a run shows the fix → test loop once.
set -eu
test_file="$1"; round="$2"
echo "running $test_file and the suite (round $round)" >&2
# TOOL: replace with the project's tests, e.g.  dotnet test  or  make check
sleep 0.1
if [ "$round" -ge 2 ]; then
    printf '{"passed": true, "round": %s, "failures": []}\n' "$round"
else
    printf '{"passed": false, "round": %s, "failures": ["%s"]}\n' "$round" "$test_file"
fi

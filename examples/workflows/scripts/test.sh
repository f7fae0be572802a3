#!/bin/sh
# Run the tests of branch $1.
set -eu
echo "testing $1" >&2
# TOOL: replace with the project's tests, e.g.  dotnet test  or  make check
sleep 0.2
printf '{"passed": 42, "failed": 0}\n'

#!/bin/sh
# Apply patch $3 to pull request $2 of $1, run the tests, push.
set -eu
repo="$1"; pr="$2"; patch="$3"
echo "applying $patch to $repo#$pr (attempt $RATCHET_ATTEMPT)" >&2
# TOOL: replace with  gh pr checkout "$pr" -R "$repo" && git apply "$patch"
# TOOL: then the project's tests, e.g.  dotnet test  or  make check
# TOOL: then  git commit -am "Address review comment" && git push
test -f "$patch"
sleep 0.1
printf '{"commit": "3f9c2ab", "tests": "passed"}\n'

#!/bin/sh
# Reproduce bug $1 of $BUG_REPO with a failing regression test. Exits 3 when the bug does not reproduce.
set -eu
issue="$1"
echo "reproducing $BUG_REPO#$issue" >&2
# AGENT: replace with e.g.  gh issue view "$issue" -R "$BUG_REPO" --json body | claude -p "Write a failing regression test for this bug report"
# TOOL:  then run it, e.g.  dotnet test --filter "Issue$issue"  (it must fail before the fix)
if [ "$issue" -eq 0 ]; then
    echo "no bug report 0: cannot reproduce" >&2
    printf '{"reproduced": false}\n'
    exit 3
fi
sleep 0.1
printf '{"reproduced": true, "test": "tests/regression/issue_%s.sh"}\n' "$issue"

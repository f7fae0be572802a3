#!/bin/sh
# Fix bug $1. $2 is the last test round ("" the first time): each fix is one round more.
set -eu
issue="$1"; last_round="${2:-0}"
round=$((last_round + 1))
echo "fixing issue $issue, round $round (the last test report is in the state JSON on stdin: artifacts.test)" >&2
# AGENT: replace with e.g.  claude -p "Fix issue #$issue so that its regression test passes. Last test report: $(cat)"
# TOOL:  then commit on the branch, e.g.  git switch -C "fix/issue-$issue" && git commit -am "Fix #$issue"
sleep 0.1
printf '{"branch": "fix/issue-%s", "round": %s}\n' "$issue" "$round"

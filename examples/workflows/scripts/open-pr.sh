#!/bin/sh
# Open a pull request that fixes issue $1 from branch $2.
set -eu
issue="$1"; branch="$2"
echo "opening a pull request on $BUG_REPO from $branch" >&2
# TOOL: replace with  gh pr create -R "$BUG_REPO" --head "$branch" --title "Fix #$issue" --body "Fixes #$issue"
sleep 0.1
printf '{"url": "https://github.com/%s/pull/%s", "branch": "%s"}\n' "$BUG_REPO" "$((issue + 1000))" "$branch"

#!/bin/sh
# Open a pull request for issue $2 of $1 from branch $3.
set -eu
repo="$1"; issue="$2"; branch="$3"
echo "opening a pull request on $repo from $branch" >&2
# TOOL: replace with  gh pr create -R "$repo" --head "$branch" --title "Fix #$issue" --body "Closes #$issue"
sleep 0.1
printf '{"url": "https://github.com/%s/pull/%s", "branch": "%s"}\n' "$repo" "$((issue + 1000))" "$branch"

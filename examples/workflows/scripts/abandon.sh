#!/bin/sh
# The fix on branch $1 was rejected: remove the branch.
set -eu
echo "abandoning $1" >&2
# TOOL: replace with  git push origin --delete "$1"
printf 'abandoned %s\n' "$1"

#!/bin/sh
# List the documentation pages that pull request $2 of $1 makes out of date. Exits 3 when there are none.
set -eu
repo="$1"; pr="$2"
echo "finding the pages affected by $repo#$pr" >&2
# TOOL: replace with  gh pr diff "$pr" -R "$repo" --name-only
# AGENT: then e.g.  claude -p "Which pages under docs/ describe these files? Answer as a JSON list."
sleep 0.1
printf '{"pages": ["docs/cli.md", "docs/configuration.md"]}\n'

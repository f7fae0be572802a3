#!/bin/sh
# Rewrite pages $2 (a JSON list) after pull request $1, on a new branch.
set -eu
pr="$1"; pages="$2"
echo "updating $pages" >&2
# AGENT: replace with e.g.  git switch -c "docs/pr-$pr" && codex exec "Update $pages to match the change in PR #$pr"
sleep 0.1
printf '{"branch": "docs/pr-%s", "pages": %s}\n' "$pr" "$pages"

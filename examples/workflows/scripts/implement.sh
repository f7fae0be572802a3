#!/bin/sh
# Implement the plan on branch $1.
set -eu
branch="$1"
echo "implementing on $branch (workflow $RATCHET_WORKFLOW_ID, attempt $RATCHET_ATTEMPT)" >&2
# AGENT: replace with e.g.  git switch -c "$branch" && codex exec "Implement the plan in $RATCHET_RUN_DIR/plan.json"
sleep 0.3
printf '{"branch": "%s", "changed": ["src/parser.c", "tests/parser_test.c"]}\n' "$branch"

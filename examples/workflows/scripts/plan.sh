#!/bin/sh
# Plan the change for issue $1.
set -eu
issue="$1"
echo "planning issue $issue" >&2
# AGENT: replace with e.g.  claude -p "Write an implementation plan for: $(cat)"  (the state JSON is on stdin)
sleep 0.2
printf '{"branch": "fix/issue-%s", "steps": ["accept trailing commas in lists", "add a test"]}\n' "$issue"

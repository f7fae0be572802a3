#!/bin/sh
# Reply on pull request $2 of $1: with commit $3 when there is one, else with an answer to the question.
set -eu
repo="$1"; pr="$2"; commit="$3"
if [ -n "$commit" ]; then
    body="Done in $commit."
else
    # AGENT: replace with e.g.  claude -p "Answer this review question: $RATCHET_INPUT_COMMENT"
    body="Good question: it is public because the CLI uses it."
fi
echo "replying on $repo#$pr" >&2
# TOOL: replace with  gh pr comment "$pr" -R "$repo" --body "$body"
printf '%s\n' "$body"

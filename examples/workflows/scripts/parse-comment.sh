#!/bin/sh
# Read review comment $3 on pull request $2 of $1 and say what it asks for.
# Prints JSON: {"kind": "change", "file": ..., "request": ...}; exits 3 when the comment is a question (no code change).
set -eu
repo="$1"; pr="$2"; comment="$3"
echo "parsing the comment on $repo#$pr" >&2
# AGENT: replace with e.g.  claude -p "Classify this review comment as a change request or a question, and name the file it concerns: $comment" --output-format json
case "$comment" in
    *\?) echo "the comment is a question: no code change" >&2
         printf '{"kind": "question", "file": null, "request": null}\n'
         exit 3 ;;
esac
# The comment's text goes into JSON: escape backslashes and quotes.
request=$(printf '%s' "$comment" | sed 's/\\/\\\\/g; s/"/\\"/g')
printf '{"kind": "change", "file": "src/parser.c", "request": "%s"}\n' "$request"

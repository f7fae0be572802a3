#!/bin/sh
# Find where in file $1 the request $2 applies.
set -eu
file="$1"; request="$2"
echo "locating '$request' in $file" >&2
# AGENT: replace with e.g.  codex exec "Find the lines of $file that this review comment is about: $request"
# TOOL:  or a plain search, e.g.  git grep -n parse_list -- "$file"
sleep 0.1
printf '{"file": "%s", "line": 120, "symbol": "parse_list"}\n' "$file"

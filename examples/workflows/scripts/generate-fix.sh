#!/bin/sh
# Write a patch for file $1 around line $2 that does what $3 asks.
set -eu
file="$1"; line="$2"; request="$3"
echo "generating a fix for $file:$line" >&2
# AGENT: replace with e.g.  claude -p "Write a unified diff for $file (near line $line) that does this: $request" > "$RATCHET_RUN_DIR/fix.patch"
mkdir -p "$RATCHET_RUN_DIR"
patch="$RATCHET_RUN_DIR/fix.patch"
printf -- '--- a/%s\n+++ b/%s\n@@ -%s +%s @@\n-parse_list\n+parse_items\n' "$file" "$file" "$line" "$line" > "$patch"
sleep 0.1
printf '{"patch": "%s", "files": ["%s"]}\n' "$patch" "$file"

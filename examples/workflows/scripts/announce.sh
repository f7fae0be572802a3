#!/bin/sh
# Link the docs pull request $3 from pull request $2 of $1.
set -eu
echo "announcing $3 on $1#$2" >&2
# TOOL: replace with  gh pr comment "$2" -R "$1" --body "The docs are updated in $3."
printf 'announced %s\n' "$3"

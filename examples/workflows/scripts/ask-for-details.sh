#!/bin/sh
# Ask the reporter of issue $1 for steps to reproduce.
set -eu
echo "asking for details on $BUG_REPO#$1" >&2
# TOOL: replace with  gh issue comment "$1" -R "$BUG_REPO" --body "We could not reproduce this. Could you add the steps?"
printf 'asked for details\n'

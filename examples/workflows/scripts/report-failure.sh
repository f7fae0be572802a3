#!/bin/sh
# Tell issue $2 of $1 that the automation failed.
set -eu
echo "reporting the failure on $1#$2" >&2
# TOOL: replace with  gh issue comment "$2" -R "$1" --body "The automation failed; see the run's log."
printf 'reported\n'

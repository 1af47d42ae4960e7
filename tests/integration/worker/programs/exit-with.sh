#!/bin/bash
# Exits with the status given as its first argument, after a line on stderr.
echo "something went wrong (status $1)" >&2
exit "$1"

#!/bin/bash
# Writes 200000 bytes and then a last line to stderr, and a result on stdout.
head -c 200000 /dev/zero | tr '\0' 'x' >&2
echo >&2
echo "the last line" >&2
echo "result flooded"

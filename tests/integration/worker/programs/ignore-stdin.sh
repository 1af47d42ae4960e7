#!/bin/bash
# Never reads its stdin.
echo "result did not read stdin"

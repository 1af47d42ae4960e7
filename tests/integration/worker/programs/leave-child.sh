#!/bin/bash
# Succeeds at once but leaves a child running in its process group.
sleep 300 &
echo $! > "$PID_DIR/child"
echo "result left a child behind"
exit 0

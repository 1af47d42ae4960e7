#!/bin/bash
# Succeeds at once but leaves a child running that left the process group and the session
# (setsid), as a daemon does.
setsid sleep 300 &
echo $! > "$PID_DIR/escaped"
echo "result left a daemon behind"
exit 0

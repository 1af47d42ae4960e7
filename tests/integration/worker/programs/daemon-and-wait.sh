#!/bin/bash
# Leaves a daemon (setsid) behind, writes its pid, then waits.
setsid sleep 300 &
echo $! > "$PID_DIR/escaped"
sleep 300

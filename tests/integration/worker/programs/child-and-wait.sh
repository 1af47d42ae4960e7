#!/bin/bash
# Starts a child that would run for 5 minutes, writes both pids to $PID_DIR, reports progress
# and waits. With IGNORE_TERM=1 it (and so its child) ignores SIGTERM.
[ "${IGNORE_TERM:-0}" = 1 ] && trap '' TERM
sleep 300 &
echo $! > "$PID_DIR/child"
echo $$ > "$PID_DIR/leader"
echo "progress 10 waiting for the child"
wait

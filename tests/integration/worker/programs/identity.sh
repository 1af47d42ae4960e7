#!/bin/bash
# Reports its uid and whether it can read the environment of its parent (the supervisor) and
# of the process $WORKER_PID.
can_read() { if cat "/proc/$1/environ" > /dev/null 2>&1; then echo read; else echo denied; fi; }
echo "result uid=$(id -u) parent=$(can_read $PPID) worker=$(can_read "$WORKER_PID")"

#!/bin/bash
# Writes to stdout without pause until it is stopped.
echo $$ > "$PID_DIR/leader"
exec yes "a line that is not in the protocol"

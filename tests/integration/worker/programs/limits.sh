#!/bin/bash
# Reports the resource limits it runs under: CPU seconds, open files, address space in KiB,
# processes.
echo "result cpu=$(ulimit -t) files=$(ulimit -n) memory=$(ulimit -v) processes=$(ulimit -u)"

#!/usr/bin/env python3
"""An example program for Conveyor's exec handler (docs/handlers.md).

Counts the primes below a limit. The task's Parameters arrive on stdin, for example
{"limit": 200000}. On stdout it speaks the protocol:

    progress <percent> <description>
    result <text>

Diagnostics go to stderr, which the worker keeps (bounded) as the run's log. Exit status 0 is
success, 75 asks for a retry, anything else is a failure. SIGTERM (cancel or timeout) ends it
at once: Python's default action is fine here, there is nothing to clean up.
"""
import json
import os
import sys


def main():
    try:
        params = json.load(sys.stdin) if os.environ.get("CONVEYOR_CONTENT_TYPE", "application/json") == "application/json" else {}
    except json.JSONDecodeError as e:
        print(f"Parameters are not JSON: {e}", file=sys.stderr)
        return 64  # a failure; running it again cannot help
    limit = params.get("limit", 100000)
    if not isinstance(limit, int) or not 2 <= limit <= 50_000_000:
        print(f"limit must be a whole number from 2 to 50000000, not {limit!r}", file=sys.stderr)
        return 64
    print(f"task {os.environ.get('CONVEYOR_TASK_NUMBER')} attempt {os.environ.get('CONVEYOR_ATTEMPT')}: "
          f"counting primes below {limit}", file=sys.stderr)

    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    reported = -1
    i = 2
    while i * i < limit:
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(range(i * i, limit, i)))
        percent = min(99, int(100 * i * i / limit))
        if percent // 10 != reported // 10:
            print(f"progress {percent} sieved up to {i * i}", flush=True)
            reported = percent
        i += 1
    count = sum(sieve)
    print("progress 100 done", flush=True)
    print(f"result {count} primes below {limit}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

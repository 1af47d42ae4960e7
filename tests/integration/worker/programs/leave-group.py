#!/usr/bin/env python3
# Leaves its own process group for its parent's (the supervisor's), so that a signal to its
# group reaches nobody, writes its pid and waits.
import os
import sys
import time

os.setpgid(0, os.getppid())
with open(os.path.join(os.environ["PID_DIR"], "leader"), "w") as f:
    f.write(str(os.getpid()))
print("progress 10 left my group", flush=True)
time.sleep(300)

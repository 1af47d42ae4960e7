#!/bin/bash
# Reads its Parameters, reports progress twice, names a file and a result, and writes what it
# was given (environment, working directory) to stderr so the test can check it.
params=$(cat)
echo "not a protocol line"
echo "progress 50 half way"
echo "progress 100 all done"
echo "file out-$CONVEYOR_TASK_NUMBER.txt"
echo "result got $params"
echo "task=$CONVEYOR_TASK_ID number=$CONVEYOR_TASK_NUMBER run=$CONVEYOR_RUN_ID" >&2
echo "attempt=$CONVEYOR_ATTEMPT start=$CONVEYOR_START_COUNT type=$CONVEYOR_CONTENT_TYPE" >&2
echo "handler=$CONVEYOR_HANDLER greeting=$GREETING pwd=$(pwd) path=$PATH" >&2
echo "secret=${CONVEYOR_TEST_SECRET:-unset} client=${CONVEYOR_CLIENT_ID:-none}" >&2

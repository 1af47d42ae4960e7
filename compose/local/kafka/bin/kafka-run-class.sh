#!/bin/bash
# Runs one of Kafka's command-line tools from the jars in /opt/kafka/libs, as the official
# image's script of the same name does.
set -euo pipefail
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/opt/kafka/config/tools-log4j.properties \
  -cp '/opt/kafka/libs/*' "$@"

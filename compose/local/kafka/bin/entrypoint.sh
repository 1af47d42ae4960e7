#!/bin/bash
# Starts a KRaft broker configured the way the official apache/kafka image is: every
# environment variable KAFKA_<NAME> becomes the property <name>, lower-cased, with "_" read as
# ".", "__" as "_" and "___" as "-" (KAFKA_NODE_ID=1 -> node.id=1). CLUSTER_ID names the
# cluster when the data folder is formatted (first start only). The variables the official
# image reads as settings of the JVM or of its logging are not properties; of those, this image
# honours KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_OPTS and KAFKA_LOG4J_OPTS.
set -euo pipefail

readonly config=/opt/kafka/config/server.properties
readonly not_properties=" KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_LOG4J_OPTS KAFKA_JVM_PERFORMANCE_OPTS \
KAFKA_JMX_OPTS KAFKA_JMX_HOSTNAME KAFKA_GC_LOG_OPTS KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS \
KAFKA_TOOLS_LOG4J_LOGLEVEL KAFKA_VERSION KAFKA_LOG_DIRS "

property_name() {
  local name=${1#KAFKA_}
  name=${name,,}
  name=${name//___/-}
  name=${name//__/@}
  name=${name//_/.}
  printf '%s' "${name//@/_}"
}

write_config() {
  local variable
  : >"$config"
  printf 'log.dirs=%s\n' "${KAFKA_LOG_DIRS:-/var/lib/kafka/data}" >>"$config"
  while IFS= read -r variable; do
    [[ $not_properties == *" $variable "* ]] && continue
    printf '%s=%s\n' "$(property_name "$variable")" "${!variable}" >>"$config"
  done < <(compgen -e | grep '^KAFKA_' || true)
}

# JVM flags from a variable, split on blanks (never expanded as file patterns).
flags() {
  local -a words
  read -ra words <<<"${!1:-$2}"
  if ((${#words[@]})); then printf '%s\n' "${words[@]}"; fi
}

write_config
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --config "$config" \
  --cluster-id "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" >/dev/null
mapfile -t jvm < <(flags KAFKA_HEAP_OPTS "-Xms256m -Xmx512m"
  flags KAFKA_JVM_PERFORMANCE_OPTS "-XX:+UseG1GC"
  flags KAFKA_OPTS ""
  flags KAFKA_LOG4J_OPTS "-Dlog4j.configuration=file:/opt/kafka/config/log4j.properties")
exec java "${jvm[@]}" -Djava.awt.headless=true -cp '/opt/kafka/libs/*' kafka.Kafka "$config"

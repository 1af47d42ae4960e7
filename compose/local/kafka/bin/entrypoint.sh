#!/bin/bash
# Starts a KRaft broker configured the way the official apache/kafka image is: every
# environment variable KAFKA_<NAME> becomes the property <name>, lower-cased, with "_" read as
# ".", "__" as "_" and "___" as "-" (KAFKA_NODE_ID=1 -> node.id=1). CLUSTER_ID names the
# cluster when the data folder is formatted (first start only). KAFKA_HEAP_OPTS, KAFKA_OPTS and
# KAFKA_LOG4J_OPTS are JVM flags, not properties.
set -euo pipefail

readonly config=/opt/kafka/config/server.properties
readonly jvm_variables=" KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_LOG4J_OPTS KAFKA_JVM_PERFORMANCE_OPTS "

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
    [[ $jvm_variables == *" $variable "* || $variable == KAFKA_LOG_DIRS ]] && continue
    printf '%s=%s\n' "$(property_name "$variable")" "${!variable}" >>"$config"
  done < <(compgen -e | grep '^KAFKA_' || true)
}

write_config
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --config "$config" \
  --cluster-id "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" >/dev/null
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC} \
  ${KAFKA_OPTS:-} -Djava.awt.headless=true \
  ${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:/opt/kafka/config/log4j.properties} \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$config"

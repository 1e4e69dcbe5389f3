#!/usr/bin/env bash
# Starts or stops a local Spark Connect server from $SPARK_HOME, for `sparkreco run --config conf/spark.json` and the
# live test suite (SPARKRECO_SPARK_REMOTE=sc://localhost:15002 dotnet test tests/SparkReco.Spark.Tests).
#   Spark 4.x ships the Connect server; Spark 3.5 needs it from Maven (--packages, so the first start downloads it).
# Usage: scripts/spark-connect-server.sh start|stop|status     (port: SPARK_CONNECT_PORT, default 15002)
set -euo pipefail

action=${1:-}
port=${SPARK_CONNECT_PORT:-15002}

if [[ -z "${SPARK_HOME:-}" || ! -x "${SPARK_HOME}/bin/spark-submit" ]]; then
  echo "SPARK_HOME must point to an unpacked Apache Spark 3.5 or 4.x distribution (with bin/spark-submit)." >&2
  exit 2
fi

version=$("${SPARK_HOME}/bin/spark-submit" --version 2>&1 | sed -n 's/.*version \([0-9][0-9.]*\).*/\1/p' | head -n 1)
if [[ -z "$version" ]]; then
  echo "Could not read the Spark version from ${SPARK_HOME}/bin/spark-submit --version." >&2
  exit 2
fi

case "$action" in
  start)
    # The settings SparkReco pins per session (time zone, Parquet timestamps, ANSI) are set by the client; nothing here.
    args=(--conf "spark.connect.grpc.binding.port=${port}")
    case "$version" in
      4.*) ;;
      3.5.*)
        scala=$(ls "${SPARK_HOME}/jars" | sed -n 's/^spark-core_\(2\.1[23]\)-.*\.jar$/\1/p' | head -n 1)
        args+=(--packages "org.apache.spark:spark-connect_${scala:-2.12}:${version}")
        ;;
      *)
        echo "Spark ${version} has no Spark Connect server SparkReco supports; use 3.5.x or 4.x." >&2
        exit 2
        ;;
    esac
    "${SPARK_HOME}/sbin/start-connect-server.sh" "${args[@]}"
    echo "Spark ${version} Connect server starting on port ${port}; use --spark-remote sc://localhost:${port}"
    echo "(logs in ${SPARK_LOG_DIR:-${SPARK_HOME}/logs}; stop with: $0 stop)"
    ;;
  stop)
    "${SPARK_HOME}/sbin/stop-connect-server.sh"
    ;;
  status)
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "something listens on port ${port} (Spark ${version} in SPARK_HOME)"
    else
      echo "nothing listens on port ${port}"
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 start|stop|status   (SPARK_HOME must be set; SPARK_CONNECT_PORT defaults to 15002)" >&2
    exit 2
    ;;
esac

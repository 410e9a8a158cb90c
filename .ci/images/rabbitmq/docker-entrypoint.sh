#!/bin/bash
# Entrypoint of cqrsbench/rabbitmq: runs the node as the rabbitmq user in the
# foreground (the server script, not the /usr/sbin wrapper, which would su
# and keep a shell in between). The node is named rabbit@<container host
# name>, which a restarted container keeps, so it finds its data again; it
# stops cleanly on SIGTERM (docker stop).
set -Eeuo pipefail
if [ "$(id -u)" = 0 ]; then
  chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$BASH_SOURCE" "$@"
fi
exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"

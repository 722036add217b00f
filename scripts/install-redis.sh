#!/usr/bin/env bash
# install-redis.sh makes redis-server, redis-sentinel and redis-cli available for
# the Redis tests (backends/redisstore/redistest starts its own processes on free
# loopback ports). Idempotent: it installs nothing when all three are on PATH.
#
# The Debian package starts a system redis on 6379 and a sentinel on 26379; our
# tests never use fixed ports, so those services are stopped and disabled.
set -euo pipefail

missing=()
for bin in redis-server redis-sentinel redis-cli; do
	command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done

if ((${#missing[@]} > 0)); then
	echo "install-redis: missing ${missing[*]}; installing Debian's redis packages" >&2
	sudo=""
	if [[ $(id -u) -ne 0 ]]; then
		sudo="sudo"
	fi
	$sudo apt-get update
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		redis-server redis-sentinel redis-tools

	# Stop the system services the packages may have started. Without systemd
	# (containers, CI) `service` may fail or do nothing, so fall back to killing
	# only the daemons that run from the packaged config files.
	for svc in redis-server redis-sentinel; do
		$sudo service "$svc" stop >/dev/null 2>&1 || true
		$sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
	done
	$sudo pkill -f '^/usr/bin/redis-server 127\.0\.0\.1:6379(\s|$)' >/dev/null 2>&1 || true
	$sudo pkill -f '^/usr/bin/redis-sentinel \*:26379(\s|$)' >/dev/null 2>&1 || true
	$sudo pkill -f '^/usr/bin/redis-sentinel 127\.0\.0\.1:26379(\s|$)' >/dev/null 2>&1 || true
fi

for bin in redis-server redis-sentinel redis-cli; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		echo "install-redis: $bin still not on PATH after install" >&2
		exit 1
	fi
done

redis-server --version
redis-sentinel --version
redis-cli --version

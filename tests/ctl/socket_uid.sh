#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The control socket's peer rule, with real credentials: only uid 0 and the server's own
# euid may talk to it.
#
#   +-----------------+   ipseckctl (uid 0)       ok
#   |  ctlsock_server |<- ipseckctl (uid 65534)   refused: file mode 0600 (connect fails)
#   |  (uid 0)        |<- ipseckctl (uid 65534)   refused: SO_PEERCRED, after chmod 0666
#   +-----------------+
#
# usage: socket_uid.sh IPSECKCTL CTLSOCK_SERVER   (run as root; exit 77 = skipped)
set -e

IPSECKCTL=$1
SERVER=$2
[ -n "$IPSECKCTL" ] && [ -n "$SERVER" ] || { echo "usage: $0 IPSECKCTL SERVER" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root"
	exit 77
fi
command -v setpriv >/dev/null || { echo "skip: no setpriv"; exit 77; }

DIR=$(mktemp -d "/tmp/ipk-ctl-uid-$$.XXXXXX")
SOCK=$DIR/ctl.sock
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" || true
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

run() {
	echo "+ $*" >&2
	"$@"
}

# Runs "$@", expecting exit status $1 (the rest is the command); its stderr goes to $DIR/err.
expect_status() {
	want=$1
	shift
	echo "+ $* (expecting exit $want)" >&2
	set +e
	"$@" 2>"$DIR/err"
	got=$?
	set -e
	cat "$DIR/err"
	if [ "$got" != "$want" ]; then
		echo "FAIL: exit $got, expected $want"
		exit 1
	fi
}

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

run chmod 0711 "$DIR"
"$SERVER" "$SOCK" &
SERVER_PID=$!
for _ in $(seq 50); do
	[ -S "$SOCK" ] && break
	sleep 0.1
done
run test -S "$SOCK"
run test "$(stat -c %a "$SOCK")" = 600

# Root may talk.
run "$IPSECKCTL" -s "$SOCK" stats | grep -q '^sa in 0 out 0 '

# Nobody cannot even connect to a 0600 socket.
expect_status 2 $NOBODY "$IPSECKCTL" -s "$SOCK" stats
grep -q 'Permission denied' "$DIR/err"

# With the file opened up, the server's own check refuses the peer with one ERR line.
run chmod 0666 "$SOCK"
expect_status 1 $NOBODY "$IPSECKCTL" -s "$SOCK" stats
grep -q '^permission denied: uid 65534 may not use ' "$DIR/err"
expect_status 1 $NOBODY "$IPSECKCTL" -s "$SOCK" sa del name x
grep -q '^permission denied: uid 65534' "$DIR/err"

# The server is unharmed and root still gets answers, including errors (exit 1).
run "$IPSECKCTL" -s "$SOCK" -j stats | grep -q '"sa":{"in":0,"out":0,'
expect_status 1 "$IPSECKCTL" -s "$SOCK" show sa name nope
grep -q "^ipseckctl:1: show sa: sa 'nope' does not exist" "$DIR/err"

# No server: exit 2 with a clear message.
run kill "$SERVER_PID"
run wait "$SERVER_PID" || true
SERVER_PID=
expect_status 2 "$IPSECKCTL" -s "$SOCK" stats
grep -q 'cannot connect to' "$DIR/err"
echo "PASS"

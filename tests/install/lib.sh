# What the install tests share (sourced): fail, waiting on a log line,
# a free loopback port.
fail () { echo "FAIL: $*" >&2; exit 1; }
# wait_line LOG TEXT: until LOG holds TEXT (tail -F follows it on inotify),
# 20 s at most
wait_line () {
  grep -m1 -qF "$2" < <(timeout 20 tail -n +1 -F "$1" 2>/dev/null) ||
    { cat "$1" >&2; fail "no '$2' in $1"; }
}
free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

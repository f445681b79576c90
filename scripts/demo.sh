#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's main command: on a fresh Debian 12 machine, as root, it installs what netmon needs, builds it, and
# shows the real thing end to end, the way ServiceRadar uses it:
#   - a throwaway test environment (network namespaces "client" and "server" joined by a veth pair, dnsmasq, a
#     TCP and a UDP server) that generates real traffic from known processes, DNS included;
#   - netmon-server with its packet layer on the client's veth, and netmon-agent in front of it, both with
#     fresh mTLS certificates;
#   - a capture triggered through the agent by netmonctl (the poller's path: TriggerNetworkCapture, then
#     StreamResults with last_sequence), its events printed as a table while it runs.
# Everything it starts is stopped and removed afterwards, on every exit path (trap).
#   bash scripts/demo.sh                 # a 12-second capture
#   DURATION=30 bash scripts/demo.sh     # longer
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
duration=${DURATION:-12}

if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: run as root (BPF programs and network namespaces need it)" >&2
  exit 1
fi

bash scripts/install-deps.sh
build=${NETMON_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)" --target netmon-agent netmonctl netmon-demo-env netmon-trafficgen
if ! cmake --build "$build" -j"$(nproc)" --target netmon-server; then
  echo "demo.sh: netmon-server did not build (see above)" >&2
  exit 1
fi
server_bin="$build/userspace/server/netmon-server"
agent_bin="$build/userspace/agent/netmon-agent"
ctl_bin="$build/userspace/cli/netmonctl"
env_bin="$build/tests/e2e_agent/netmon-demo-env"

work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-demo.XXXXXX")
server_pid="" agent_pid="" drain_pid=""

# Stops what runs, oldest last, and removes the work directory. SIGTERM first: netmon-server detaches its
# programs and netmon-demo-env deletes its namespaces on the way out.
stop() {  # stop PID NAME
  local pid=$1 name=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo.sh: $name did not stop in 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop "$agent_pid" netmon-agent
  stop "$server_pid" netmon-server
  [[ -n ${env_in:-} ]] && exec {env_in}>&-  # end of input: netmon-demo-env tears the environment down
  stop "${ENV_PID:-}" netmon-demo-env
  stop "$drain_pid" "traffic log"
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits for a process's first stdout line in FILE (its readiness line); fails with its log if it dies.
await_line() {  # await_line FILE PID NAME
  local file=$1 pid=$2 name=$3 i
  for ((i = 0; i < 600; i++)); do
    [[ -s $file ]] && { head -n1 "$file"; return 0; }
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo.sh: $name exited before it was ready:" >&2
      cat "$work/$name.log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "demo.sh: $name was not ready within 60 s" >&2
  return 1
}
json_get() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

echo "== certificates"
bash scripts/make-dev-certs.sh "$work/certs"

echo "== test environment (namespaces, dnsmasq, TCP/UDP servers)"
coproc ENV { exec "$env_bin" 2>"$work/netmon-demo-env.log"; }
# Our own copies of the coprocess's pipes: bash does not hand ENV[0]/ENV[1] to background jobs.
exec {env_out}<&"${ENV[0]}" {env_in}>&"${ENV[1]}"
read -r -t 60 -u "$env_out" envinfo || { echo "demo.sh: netmon-demo-env did not start:" >&2; cat "$work/netmon-demo-env.log" >&2; exit 1; }
cat <&"$env_out" >"$work/traffic.log" &
drain_pid=$!
client_if=$(json_get "$envinfo" client_if)
client_ip=$(json_get "$envinfo" client_ip)
client_netns=$(json_get "$envinfo" client_netns)
echo "   client $(json_get "$envinfo" client_ip) ($client_netns) -> server $(json_get "$envinfo" server_ip):" \
     "tcp $(json_get "$envinfo" tcp_server), udp $(json_get "$envinfo" udp_server), dns :53"

security() {  # security CERT [SERVER_NAME]
  printf '{"mode": "mtls", "cert_dir": "%s", "server_name": "%s", "tls": {"cert_file": "%s.pem", "key_file": "%s-key.pem", "ca_file": "ca.pem"}}' \
    "$work/certs" "${2:-}" "$1" "$1"
}

echo "== netmon-server (mTLS on unix:$work/server.sock, packet layer on $client_if in the client namespace)"
cat >"$work/server.json" <<JSON
{"listen_addr": "unix:$work/server.sock", "security": $(security server),
 "interfaces": [{"name": "$client_if", "netns": "$client_netns"}], "flush_interval_ms": 1000}
JSON
"$server_bin" --config "$work/server.json" >"$work/server.out" 2>"$work/netmon-server.log" &
server_pid=$!
await_line "$work/server.out" "$server_pid" netmon-server >/dev/null

echo "== netmon-agent (mTLS on 127.0.0.1, client of netmon-server)"
cat >"$work/agent.json" <<JSON
{"listen_addr": "127.0.0.1:0", "agent_id": "demo-agent", "security": $(security agent),
 "network_monitor": {"address": "unix:$work/server.sock", "security": $(security agent netmon-server)}}
JSON
"$agent_bin" --config "$work/agent.json" >"$work/agent.out" 2>"$work/netmon-agent.log" &
agent_pid=$!
agent_port=$(json_get "$(await_line "$work/agent.out" "$agent_pid" netmon-agent)" port)
agent="127.0.0.1:$agent_port"
ctl=("$ctl_bin" --agent "$agent" --cert-dir "$work/certs" --server-name netmon-agent)

"${ctl[@]}" status

echo "== capture through the agent for $duration s of what the client starts (--src $client_ip: its TCP"
echo "   connections and the server's accepts, UDP, DNS queries and answers) while it makes traffic"
echo "traffic $((duration - 3)) 1" >&"$env_in"
"${ctl[@]}" capture --duration "$duration" --src "$client_ip"

echo "== what the generator did (compare PIDs and names with the table above)"
python3 - "$work/traffic.log" <<'PY'
import json, sys, collections
tcp, udp, dns = collections.Counter(), collections.Counter(), []
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "done" and "datagrams" in e:
        udp[e["pid"]] += e.get("datagrams", 0)
    elif e.get("event") == "done":
        tcp[e["pid"]] += e.get("sent", 0)
    elif e.get("event") == "dns":
        dns.append(f'{e["type"]} {e["name"]}')
print(f"   demo-client: {len(tcp)} TCP connections, {sum(tcp.values())} payload bytes sent, pids {sorted(tcp)[:6]}...")
print(f"   demo-udp:    {sum(udp.values())} UDP datagrams from pids {sorted(udp)[:6]}...")
print(f"   dig:         {len(dns)} queries: {', '.join(sorted(set(dns)))}")
PY

echo "== captures held by netmon-server"
"${ctl[@]}" sessions
echo "== done; stopping everything"

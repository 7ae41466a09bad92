#!/usr/bin/env bash
# Two "hosts" on one machine: network namespaces rnn-host-a (10.77.0.1) and rnn-host-b
# (10.77.0.2) joined by a veth pair. Open MPI runs over TCP between them: mpirun starts inside
# rnn-host-a and launches the remote daemon through scripts/netns-agent.sh (its rsh agent),
# which runs it inside rnn-host-b. Needs root and iproute2.
#
#   scripts/netns-two-hosts.sh up          # create the namespaces and the link
#   scripts/netns-two-hosts.sh run CMD...  # mpirun -np 2 (one rank per "host") CMD...
#   scripts/netns-two-hosts.sh down        # remove them
#
# Optional: DELAY=0.5ms RATE=1gbit scripts/netns-two-hosts.sh up   (netem: a slower, real-ish link)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
a=rnn-host-a b=rnn-host-b

case ${1:-} in
up)
  ip netns add $a
  ip netns add $b
  ip link add veth-rnn-a type veth peer name veth-rnn-b
  ip link set veth-rnn-a netns $a
  ip link set veth-rnn-b netns $b
  ip -n $a addr add 10.77.0.1/24 dev veth-rnn-a
  ip -n $b addr add 10.77.0.2/24 dev veth-rnn-b
  for ns in $a $b; do
    ip -n $ns link set lo up
    ip -n $ns link set "veth-rnn-${ns##*-}" up
  done
  if [[ -n ${DELAY:-}${RATE:-} ]]; then
    for ns in $a $b; do
      ip netns exec $ns tc qdisc add dev "veth-rnn-${ns##*-}" root netem ${DELAY:+delay $DELAY} ${RATE:+rate $RATE}
    done
  fi
  echo "up: $a 10.77.0.1 <-> $b 10.77.0.2"
  ;;
run)
  shift
  hosts=$(mktemp)
  printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' >"$hosts"
  # TCP only (both "hosts" report the same hostname, so Open MPI would otherwise pick shared
  # memory), on the veth subnet, for the launcher's own traffic (oob) as well.
  ip netns exec $a env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun --hostfile "$hosts" -np 2 --map-by node --bind-to none \
      --mca plm_rsh_agent "$here/netns-agent.sh" \
      --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
      -x PATH "$@"
  rm -f "$hosts"
  ;;
down)
  ip netns del $a 2>/dev/null || true
  ip netns del $b 2>/dev/null || true
  ;;
*)
  echo "usage: $0 up|run CMD...|down" >&2
  exit 64
  ;;
esac

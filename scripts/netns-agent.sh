#!/bin/sh
# Open MPI's rsh agent for scripts/netns-two-hosts.sh: called as `netns-agent.sh HOST COMMAND...`
# (like ssh), runs COMMAND in the network namespace that plays HOST.
host=$1
shift
case $host in
  10.77.0.1) ns=rnn-host-a ;;
  10.77.0.2) ns=rnn-host-b ;;
  *) echo "netns-agent: unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"

#!/usr/bin/env bash
# The cluster's figures in BENCHMARKS.md, on one machine with the local
# Postgres and NATS, release builds:
#   1. the extra hop: `chat` at 1,000 conversations x 1 msg/s against one
#      node, then against two nodes of a cluster with the clients spread
#      over both (half of them on the node that does not own the account);
#   2. failover: five times, three fresh nodes under `failover` load, the
#      account's owner killed with SIGKILL 5 s in; the tool's recovery time.
# Usage: load-tests/scripts/cluster.sh   (needs psql, jq; builds nothing:
#        run `cargo build --release -p switchboard-server -p switchboard-load` first)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/release/switchboard
load=target/release/switchboard-load
pg=${PG:-postgres://postgres@127.0.0.1:5432}
nats=${NATS:-nats://127.0.0.1:4222}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

fresh() { # a new database named $1; prints its URL
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null 2>&1
    echo "$pg/$1"
}
account() { # account on database $1; sets token and account_id
    local out
    out=$("$bin" account create --name Bench --admin-name Ana --admin-email "ana@bench.test" \
        --admin-password password123 --database-url "$1")
    token=$(jq -r .access_token <<<"$out")
    account_id=$(jq -r .account_id <<<"$out")
}
node() { # node $1 on port $2 of database $3 (cluster unless $4 = single)
    # One load generator is every client: no per-address caps.
    local args=(serve --database-url "$3" --listen "127.0.0.1:$2" --files-dir "$work/files"
        --max-websockets-per-address 100000 --max-connections-per-address 100000)
    [ "${4:-}" = single ] || args+=(--cluster "$nats" --node-name "$1" --cluster-prefix "bench$$")
    RUST_LOG=warn "$bin" "${args[@]}" >"$work/$1.log" 2>&1 &
    pids+=($!)
    last_pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return; sleep 0.1; done
    echo "node $1 did not start" >&2; exit 1
}
chat() { # chat load over the given URLs; prints visitor->agent and agent->visitor p50/p99
    "$load" chat "${@/#/--url=}" --token "$token" --account-id "$account_id" \
        --conversations 1000 --rate 1 --agents 10 --duration 20s --json >"$work/chat.json"
    jq -r '[.visitor_to_agent.p50_ms, .visitor_to_agent.p99_ms,
            .agent_to_visitor.p50_ms, .agent_to_visitor.p99_ms, .lost] | @tsv' \
        "$work/chat.json"
}

echo "== the extra hop (chat, 1,000 conversations x 1 msg/s, 10 agents, 20 s)"
echo -e "setup\tv->a p50\tv->a p99\ta->v p50\ta->v p99\tLOST"
db=$(fresh sb_bench_single); account "$db"
node single 3201 "$db" single
echo -e "one node\t$(chat http://127.0.0.1:3201)"
cleanup; pids=()
db=$(fresh sb_bench_pair); account "$db"
node a 3211 "$db"; node b 3212 "$db"
echo -e "two nodes\t$(chat http://127.0.0.1:3211 http://127.0.0.1:3212)"
cleanup; pids=()

echo "== failover (3 nodes, failover load, the owner killed 5 s in)"
for run in 1 2 3 4 5; do
    db=$(fresh "sb_bench_kill$run"); account "$db"
    declare -A pid_of=()
    node a 3221 "$db"; pid_of[a]=$last_pid
    node b 3222 "$db"; pid_of[b]=$last_pid
    node c 3223 "$db"; pid_of[c]=$last_pid
    # The account is taken by its first request; its owner is the node to kill.
    curl -sf -H "api_access_token: $token" \
        "http://127.0.0.1:3221/api/v1/accounts/$account_id/conversations/meta" >/dev/null
    owner=$(psql -tA "$db" -c "SELECT node FROM shard_leases WHERE account_id = $account_id")
    "$load" failover --url http://127.0.0.1:3221 --url http://127.0.0.1:3222 \
        --url http://127.0.0.1:3223 --token "$token" --account-id "$account_id" \
        --conversations 300 --rate 1 --agents 6 --duration 20s \
        --kill-pid "${pid_of[$owner]}" --kill-after 5s --json >"$work/failover.json"
    jq -r --arg run "$run" --arg owner "$owner" \
        '"run \($run): killed \($owner), recovery \(.recovery_s // .recovery) s, LOST \(.lost), errors \(.errors)"' \
        "$work/failover.json"
    cleanup; pids=()
done

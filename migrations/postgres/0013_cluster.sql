-- Cluster mode (`switchboard serve --cluster`), Postgres only; a server
-- without --cluster never reads these tables. See docs/CLUSTER.md.

-- The nodes that are alive: each renews its row every second; a row whose
-- time has passed is a node that died (or was cut off).
CREATE TABLE cluster_nodes (
    name TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Which node owns each account's shard. `epoch` grows by one on every
-- acquisition: the writer of the owner checks (node, epoch) inside each of
-- its transactions, so a node that lost the lease can never commit.
-- Times are the database's clock, never a node's.
CREATE TABLE shard_leases (
    account_id BIGINT PRIMARY KEY,
    node TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX shard_leases_node ON shard_leases (node);

-- Blocks of conversation and message ids: a node takes a fresh block
-- whenever it acquires an account, so ids are unique across nodes and keep
-- increasing within an account whichever node writes it.
CREATE TABLE id_blocks (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    last_block BIGINT NOT NULL
);
INSERT INTO id_blocks (last_block) VALUES (0);

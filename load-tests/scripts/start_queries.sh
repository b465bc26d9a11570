#!/usr/bin/env bash
# Times the two scans the hub runs over every message when it starts: the
# newest message of each conversation (list previews) and when each contact
# last wrote (WhatsApp's 24-hour window). Builds a SQLite file with the
# project's migrations, 100,000 conversations and 1,000,000 messages (half
# incoming), then runs each query three times with sqlite3's timer.
# Usage: load-tests/scripts/start_queries.sh [db-file]   (needs sqlite3)
set -euo pipefail
cd "$(dirname "$0")/../.."
db=${1:-/tmp/switchboard-start-queries.db}
rm -f "$db" "$db-wal" "$db-shm"
cat migrations/sqlite/*.sql | sqlite3 "$db" >/dev/null
sqlite3 "$db" >/dev/null <<'SQL'
PRAGMA journal_mode=WAL;
INSERT INTO accounts VALUES (1, 'bench', 0);
INSERT INTO inboxes (id, account_id, name, channel_type, created_at) VALUES (1, 1, 'WhatsApp', 'whatsapp', 0);
INSERT INTO contacts (id, account_id, created_at) VALUES (1, 1, 0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO conversations (id, account_id, inbox_id, contact_id, status, created_at, last_activity_at)
SELECT i, 1, 1, 1, 'open', i, i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO messages (id, account_id, conversation_id, message_type, content, created_at, updated_at)
SELECT i, 1, (i - 1) / 10 + 1, CASE WHEN i % 2 = 0 THEN 'incoming' ELSE 'outgoing' END,
       'a message of an ordinary length, about fifty chars', i, i FROM n;
SQL
# The queries as server/src/store/sql/chat.rs runs them.
previews="SELECT count(*) FROM (SELECT * FROM messages WHERE id IN (SELECT MAX(id) FROM messages WHERE message_type <> 'activity' AND deleted = FALSE GROUP BY conversation_id));"
incoming="SELECT count(*) FROM (SELECT conversation_id, MAX(created_at) FROM messages WHERE message_type = 'incoming' GROUP BY conversation_id);"
for name in previews incoming; do
    for _ in 1 2 3; do
        printf '.timer on\n%s\n' "${!name}" | sqlite3 "$db" | sed -n "s/^Run Time: real \([0-9.]*\).*/$name: \1 s/p"
    done
done

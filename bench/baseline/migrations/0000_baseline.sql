CREATE TABLE tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL);
CREATE TABLE events (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL);
-- The bench's bearer token is "bench-token"; this is its SHA-256.
INSERT INTO tokens VALUES ('7137e16f75a1d75b6fd65930672814806cdc1a0d6e0aa38611afc996a402258b', 'usr_bench');

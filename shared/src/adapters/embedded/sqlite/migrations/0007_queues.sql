-- The embedded bus's queues, durable across a crash: one row per message per subscribed
-- queue (SQS's copy per subscription), in publish order. `visible_at` (unix ms) hides a
-- message while a consumer holds it or until its retry; `dead_at` (unix ms) marks a dead
-- letter, kept until redriven.
CREATE TABLE queue_messages (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    queue         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    visible_at    INTEGER NOT NULL DEFAULT 0,
    dead_at       INTEGER
);
CREATE INDEX queue_messages_live ON queue_messages (queue, visible_at, seq)
    WHERE dead_at IS NULL;
CREATE INDEX queue_messages_dead ON queue_messages (queue, seq) WHERE dead_at IS NOT NULL;

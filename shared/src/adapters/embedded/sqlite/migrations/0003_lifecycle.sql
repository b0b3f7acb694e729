-- Cancellation frees the (event, email) pair, so uniqueness covers live registrations
-- only; status and creation time become columns for the waitlist order and listings.
CREATE TABLE registrations_v3 (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    email      TEXT NOT NULL,
    status     TEXT NOT NULL,
    sort_key   TEXT NOT NULL,
    data       TEXT NOT NULL
);
INSERT INTO registrations_v3 (id, event_id, email, status, sort_key, data)
    SELECT id, event_id, email, json_extract(data, '$.status'),
           json_extract(data, '$.created_at') || '#' || id, data
    FROM registrations;
DROP TABLE registrations;
ALTER TABLE registrations_v3 RENAME TO registrations;
CREATE UNIQUE INDEX registrations_live_email ON registrations (event_id, email)
    WHERE status <> 'CANCELLED';
CREATE INDEX registrations_by_event ON registrations (event_id, sort_key);
CREATE INDEX registrations_by_status ON registrations (event_id, status, sort_key);
ALTER TABLE read_events ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE read_events ADD COLUMN checked_in INTEGER NOT NULL DEFAULT 0;
CREATE TABLE tickets (
    registration_id TEXT PRIMARY KEY,
    ticket          TEXT NOT NULL
);
CREATE TABLE idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    outcome     TEXT,
    lease_until INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

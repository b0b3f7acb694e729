CREATE TABLE IF NOT EXISTS users (
    id    TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    data  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL,
    max_capacity INTEGER NOT NULL,
    confirmed    INTEGER NOT NULL DEFAULT 0,
    data         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registrations (
    id       TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    email    TEXT NOT NULL,
    data     TEXT NOT NULL,
    UNIQUE (event_id, email)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    envelope TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS read_events (
    id         TEXT PRIMARY KEY,
    listing    TEXT,
    sort_key   TEXT,
    published  INTEGER NOT NULL DEFAULT 0,
    registered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS read_events_published ON read_events (published, sort_key, id);
CREATE TABLE IF NOT EXISTS read_applied (
    dedupe_id TEXT PRIMARY KEY
);

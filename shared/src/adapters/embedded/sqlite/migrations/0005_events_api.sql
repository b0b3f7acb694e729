-- The organizer's events API: filter columns beside each listing (creation time for
-- newest-first, lower-cased venue and text), the version of the listing last applied
-- (its envelope id, a UUIDv7), and the report's registrations per day.
ALTER TABLE read_events ADD COLUMN created_key TEXT;
ALTER TABLE read_events ADD COLUMN venue_key TEXT;
ALTER TABLE read_events ADD COLUMN search_text TEXT;
ALTER TABLE read_events ADD COLUMN listing_version TEXT;
CREATE INDEX read_events_newest ON read_events (published, created_key, id);
CREATE TABLE read_event_days (
    event_id      TEXT NOT NULL,
    day           TEXT NOT NULL,
    registrations INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, day)
);

-- Paid events: a held registration's expiry (unix seconds) as a column, indexed for the
-- holds expirer; the read model's count of held seats and its money per currency.
ALTER TABLE registrations ADD COLUMN hold_expires_at INTEGER;
CREATE INDEX registrations_holds ON registrations (hold_expires_at)
    WHERE status = 'PENDING_PAYMENT';
ALTER TABLE read_events ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
CREATE TABLE read_event_money (
    event_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    refunded INTEGER NOT NULL DEFAULT 0,
    pending  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, currency)
);

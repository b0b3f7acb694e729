-- An event's revocation list (GET /events/{id}/revocations): cancelled registrations by
-- `<cancelled time>#<id>`, written with the status by the same UPDATE. Registrations
-- cancelled before this step recorded no time and stay off the list, as in DynamoDB.
ALTER TABLE registrations ADD COLUMN revoked_key TEXT;
CREATE INDEX registrations_revoked ON registrations (event_id, revoked_key)
    WHERE revoked_key IS NOT NULL;

-- When each queued message was published (unix ms): SQS's `SentTimestamp`, which the
-- records handed to workers carry and the workers' message-age metric reads. Rows queued
-- before this step count as sent at 0 (unknown), and report no age.
ALTER TABLE queue_messages ADD COLUMN sent_at INTEGER NOT NULL DEFAULT 0;

-- What SQS keeps with each message besides its body: when it was published (unix ms),
-- its `SentTimestamp`, which the workers' message-age metric reads (rows queued before this
-- step count as sent at 0, unknown, and report no age); and the publisher's trace context
-- (the SNS message attribute `traceparent`), which the worker continues.
ALTER TABLE queue_messages ADD COLUMN sent_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_messages ADD COLUMN traceparent TEXT;

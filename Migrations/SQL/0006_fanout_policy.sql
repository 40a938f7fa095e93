-- Grouping (Alertmanager's group_wait / group_interval): deliveries due together for one
-- channel travel as one notification, whose id is the `webhook-id`. The id is written when the
-- group is formed, so a retry after a crash resends exactly the same group under the same id.
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS notification_id uuid;
CREATE INDEX IF NOT EXISTS deliveries_by_notification ON deliveries (notification_id) WHERE notification_id IS NOT NULL;

-- When the channel was last sent a notification: the next group waits group_interval after it.
ALTER TABLE stakeholder_channels ADD COLUMN IF NOT EXISTS last_notified_at timestamptz;

-- Per-recipient rate limit: notifications sent to the channel in the current hour-long window.
ALTER TABLE stakeholder_channels ADD COLUMN IF NOT EXISTS window_started_at timestamptz;
ALTER TABLE stakeholder_channels ADD COLUMN IF NOT EXISTS window_count integer NOT NULL DEFAULT 0;

-- The give-up limit counts from the first attempt, not from planning (digests and quiet hours
-- may hold a delivery back for hours before it is first due).
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS first_attempt_at timestamptz;

-- "Is a group already waiting for this channel?" — asked for every planned delivery.
CREATE INDEX IF NOT EXISTS deliveries_waiting_by_channel ON deliveries (channel_id, next_attempt_at)
    WHERE state = 'pending' AND notification_id IS NULL;

-- The public OASIS CAP 1.2 feed: one message per published revision of a public,
-- non-sensitive incident of severity >= 3 (Alert, then Update, then Cancel on closure),
-- rendered once and served as written.
CREATE TABLE IF NOT EXISTS cap_messages (
    identifier   text PRIMARY KEY,
    incident_id  uuid        NOT NULL,
    revision     integer     NOT NULL,
    msg_type     text        NOT NULL CHECK (msg_type IN ('Alert', 'Update', 'Cancel')),
    sent         timestamptz NOT NULL,
    document     text        NOT NULL,
    UNIQUE (incident_id, revision)
);
CREATE INDEX IF NOT EXISTS cap_messages_recent ON cap_messages (sent DESC);
CREATE INDEX IF NOT EXISTS cap_messages_by_incident ON cap_messages (incident_id, revision DESC);

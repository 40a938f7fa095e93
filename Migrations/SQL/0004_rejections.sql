-- Every rejected submission, kept with its original bytes and reasons (also published on
-- incidents.rejected), so operators can count rejections by source and reason in SQL.
CREATE TABLE IF NOT EXISTS rejected_incidents (
    id                  bigserial PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    channel             text        NOT NULL,
    source_id           text,
    external_id         text,
    reasons             jsonb       NOT NULL,
    original            bytea       NOT NULL,
    original_topic      text,
    original_partition  int,
    original_offset     bigint
);
CREATE INDEX IF NOT EXISTS rejected_incidents_source ON rejected_incidents (source_id, received_at);

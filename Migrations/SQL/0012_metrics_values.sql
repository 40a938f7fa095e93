-- metrics-aggregator, second shape: compact window rows, an update log that is both the
-- outbox of the metric topics and the history of the live stream, and the state the alert,
-- engagement and perceived-safety metrics are recomputed from.
--
-- Why: the first shape kept one row per window with text keys and jsonb dimensions, and
-- wrote an outbox row and a stream row for every changed window. At a few hundred thousand
-- changed windows a minute that was most of the database's work. Window rows now have a
-- 16-byte key (dimension set id, granularity, start) and leave room for in-place updates;
-- every flush of the aggregator writes its changed windows as one log row.

-- Dimension sets by id (`area/category`, `area/*`, `*/*/person`, `webhook/resident`, …).
-- Append-only, so any process may cache id → set forever.
CREATE TABLE IF NOT EXISTS metric_dimension_sets (
    id             serial PRIMARY KEY,
    metric         text  NOT NULL,
    dimension_key  text  NOT NULL,
    dimensions     jsonb NOT NULL,
    UNIQUE (metric, dimension_key)
);

-- One row per metric, dimension set, granularity and window. `count` is the incident count
-- (incidents), closed incidents (response-times), deliveries (alerts), invitations
-- (engagement) or answers (perceived-safety); the other values are in `values`. `revision`
-- grows with every change and is the ce_id suffix of the row's event; `final` is set once
-- the event-time watermark has passed the window's end plus the grace period.
CREATE TABLE IF NOT EXISTS metric_values (
    dimension_id  int         NOT NULL,
    granularity   smallint    NOT NULL CHECK (granularity BETWEEN 0 AND 3),   -- 0 hour, 1 day, 2 week, 3 month
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    count         bigint      NOT NULL DEFAULT 0,
    "values"      jsonb,
    revision      int         NOT NULL DEFAULT 1,
    final         boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (dimension_id, granularity, window_start)
) WITH (fillfactor = 60);
-- Windows still waiting for the watermark to pass their end plus the grace period.
CREATE INDEX IF NOT EXISTS metric_values_not_final ON metric_values (window_end) WHERE NOT final;

-- Carry the first shape's windows over, then replace its table by a view of the same name
-- and columns (operators' queries and dashboards built on it keep working).
DO $$
BEGIN
    IF to_regclass('metric_windows') IS NOT NULL AND (SELECT relkind FROM pg_class WHERE oid = to_regclass('metric_windows')) = 'r' THEN
        INSERT INTO metric_dimension_sets (metric, dimension_key, dimensions)
        SELECT DISTINCT ON (metric, dimension_key) metric, dimension_key, dimensions FROM metric_windows
        ON CONFLICT (metric, dimension_key) DO NOTHING;
        INSERT INTO metric_values (dimension_id, granularity, window_start, window_end, count, "values", revision)
        SELECT d.id, CASE w.granularity WHEN 'hour' THEN 0 WHEN 'day' THEN 1 WHEN 'week' THEN 2 ELSE 3 END,
               w.window_start, w.window_end, w.count, CASE WHEN w."values" = '{}'::jsonb THEN NULL ELSE w."values" END, w.revision
        FROM metric_windows w JOIN metric_dimension_sets d ON d.metric = w.metric AND d.dimension_key = w.dimension_key
        ON CONFLICT DO NOTHING;
        DROP TABLE metric_windows;
    END IF;
END $$;

CREATE OR REPLACE VIEW metric_windows AS
SELECT d.metric, (ARRAY['hour', 'day', 'week', 'month'])[v.granularity + 1] AS granularity, v.window_start, d.dimension_key,
       v.window_end, d.dimensions, v.count, coalesce(v."values", '{}'::jsonb) AS "values", v.revision, v.final
FROM metric_values v JOIN metric_dimension_sets d ON d.id = v.dimension_id;

-- The update log. Every flush of the aggregator appends its changed windows here, in the
-- same transaction as the windows themselves (entries in a compact binary form, at most
-- 2^20 per row). The publisher sends each row's entries to the metric topics and then
-- numbers the row (`published_seq`); the live stream replays rows in that order, so an SSE
-- event id is `published_seq * 2^20 + entry index`.
CREATE TABLE IF NOT EXISTS metric_update_batches (
    id             bigserial   PRIMARY KEY,
    created_at     timestamptz NOT NULL DEFAULT now(),
    entry_count    int         NOT NULL,
    entries        bytea       NOT NULL,
    published_seq  bigint      UNIQUE,
    published_at   timestamptz
);
-- Entries are already compact; compressing megabytes per flush would cost more than it saves.
ALTER TABLE metric_update_batches ALTER COLUMN entries SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS metric_update_batches_unpublished ON metric_update_batches (id) WHERE published_seq IS NULL;
CREATE SEQUENCE IF NOT EXISTS metric_publish_seq;
-- The first shape's per-update stream history has no place in the log.
DROP TABLE IF EXISTS metric_updates;

-- Hotspot counts per cell, UTC day and area, as before but with room for in-place updates.
-- A cell lies in one area or straddles a border between a few: the area says which one an
-- episode belongs to.
CREATE TABLE IF NOT EXISTS metric_cell_counts (
    cell     text   NOT NULL,
    day      bigint NOT NULL,
    area_id  text   NOT NULL,
    count    int    NOT NULL,
    PRIMARY KEY (cell, day, area_id)
) WITH (fillfactor = 70);
CREATE INDEX IF NOT EXISTS metric_cell_counts_day ON metric_cell_counts (day);
DO $$
BEGIN
    IF to_regclass('metric_cell_days') IS NOT NULL THEN
        INSERT INTO metric_cell_counts (cell, day, area_id, count)
        SELECT cell, day, area_id, count FROM metric_cell_days
        ON CONFLICT (cell, day, area_id) DO NOTHING;
        DROP TABLE metric_cell_days;
    END IF;
END $$;

-- Alerts: the final state of every delivery (`alerts.delivered`), once per delivery id.
CREATE TABLE IF NOT EXISTS metric_alert_deliveries (
    delivery_id  uuid        PRIMARY KEY,
    finished_at  timestamptz NOT NULL,
    channel      text        NOT NULL,
    role         text        NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('delivered', 'failed', 'cancelled', 'suppressed')),
    latency_ms   bigint
);
CREATE INDEX IF NOT EXISTS metric_alert_deliveries_finished ON metric_alert_deliveries (finished_at);

-- Engagement: meetings, their occurrences and invitees, answers (RSVP, attendance) as
-- `meetings.events` last described them.
CREATE TABLE IF NOT EXISTS metric_meetings (
    meeting_id  uuid        PRIMARY KEY,
    type        text        NOT NULL,
    area        text        NOT NULL,
    cancelled   boolean     NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS metric_meeting_occurrences (
    meeting_id        uuid        NOT NULL,
    occurrence_start  timestamptz NOT NULL,
    occurrence_end    timestamptz NOT NULL,
    cancelled         boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (meeting_id, occurrence_start)
);
CREATE INDEX IF NOT EXISTS metric_meeting_occurrences_start ON metric_meeting_occurrences (occurrence_start);
CREATE TABLE IF NOT EXISTS metric_meeting_invitees (
    meeting_id      uuid NOT NULL,
    stakeholder_id  uuid NOT NULL,
    role            text NOT NULL,
    PRIMARY KEY (meeting_id, stakeholder_id)
);
-- `occurrence_start` is 1970-01-01T00:00:00Z for an answer about the whole series.
CREATE TABLE IF NOT EXISTS metric_meeting_answers (
    meeting_id        uuid        NOT NULL,
    stakeholder_id    uuid        NOT NULL,
    occurrence_start  timestamptz NOT NULL,
    rsvp              text        CHECK (rsvp IN ('accepted', 'declined', 'tentative')),
    rsvp_at           timestamptz,
    attended          boolean,
    attended_at       timestamptz,
    PRIMARY KEY (meeting_id, stakeholder_id, occurrence_start)
);

-- Perceived safety: every survey answer (`feedback.responses`), once per event id.
CREATE TABLE IF NOT EXISTS metric_feedback (
    response_id   text        PRIMARY KEY,
    area          text        NOT NULL,
    role          text        NOT NULL,
    score         smallint    NOT NULL CHECK (score BETWEEN 1 AND 5),
    responded_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_feedback_responded ON metric_feedback (responded_at);

-- metrics-aggregator: windowed aggregates, the offsets they were computed up to, and the
-- per-incident state that lets a revision move its count. PostgreSQL is the source of truth;
-- the service keeps only bounded caches in memory.

-- Where each consumer of the aggregator has applied every input partition up to (the next
-- offset to read). Written in the same transaction as the aggregates, so after a crash the
-- service resumes exactly where its state ends, whatever Kafka's group offsets say.
CREATE TABLE IF NOT EXISTS metric_consumer_offsets (
    consumer     text        NOT NULL,
    topic        text        NOT NULL,
    partition    int         NOT NULL,
    next_offset  bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);

-- The revision of each incident the counts currently reflect and where it was counted.
-- A newer revision subtracts from these dimensions and adds to its own; an older or equal
-- one (a duplicate delivery, a replay, an out-of-order revision) changes nothing.
CREATE TABLE IF NOT EXISTS metric_incident_state (
    incident_id     uuid        PRIMARY KEY,
    revision        int         NOT NULL,
    occurred_at     timestamptz NOT NULL,
    reported_at     timestamptz,
    closed_at       timestamptz,
    area_id         text        NOT NULL,
    category        text        NOT NULL,
    category_group  text        NOT NULL,
    cell            text,                       -- geohash precision 6 (hotspots)
    sensitive       boolean     NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS metric_incident_state_occurred ON metric_incident_state (occurred_at);
CREATE INDEX IF NOT EXISTS metric_incident_state_closed ON metric_incident_state (area_id, category, occurred_at) WHERE closed_at IS NOT NULL;

-- Incidents per hotspot cell, UTC day and area: what the hotspot rule reads (35 small rows
-- per cell instead of every incident of five weeks), kept by the same deltas as the windows.
CREATE TABLE IF NOT EXISTS metric_cell_days (
    cell     text   NOT NULL,
    day      bigint NOT NULL,                   -- days since 1970-01-01 (UTC)
    area_id  text   NOT NULL,
    count    int    NOT NULL,
    PRIMARY KEY (cell, day, area_id)
);
CREATE INDEX IF NOT EXISTS metric_cell_days_day ON metric_cell_days (day);

-- One row per (metric, granularity, window, dimensions): the value dashboards see on the
-- compacted metric topics. `dimension_key` is the dimensions part of the Kafka key
-- (`<area>/<category>`, `*` meaning all); `revision` grows with every change of the row.
CREATE TABLE IF NOT EXISTS metric_windows (
    metric         text        NOT NULL,
    granularity    text        NOT NULL CHECK (granularity IN ('hour', 'day', 'week', 'month')),
    window_start   timestamptz NOT NULL,
    dimension_key  text        NOT NULL,
    window_end     timestamptz NOT NULL,
    dimensions     jsonb       NOT NULL,
    count          bigint      NOT NULL DEFAULT 0,     -- incidents; closed incidents for response-times
    "values"       jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- the other values (p50_seconds, …)
    revision       bigint      NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (metric, granularity, window_start, dimension_key)
);
CREATE INDEX IF NOT EXISTS metric_windows_area ON metric_windows (metric, granularity, (dimensions ->> 'area'), window_start);

-- Every metric update in publication order: the live stream (SSE) resumes from an id here.
CREATE TABLE IF NOT EXISTS metric_updates (
    id          bigserial   PRIMARY KEY,
    metric      text        NOT NULL,
    message_key text        NOT NULL,
    payload     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Hotspot episodes: a geohash-6 cell significantly above its own baseline. One open
-- episode per cell at most; its id is stable from start to end.
CREATE TABLE IF NOT EXISTS metric_hotspot_episodes (
    episode_id   uuid        PRIMARY KEY,
    cell         text        NOT NULL,
    area_id      text        NOT NULL,
    phase        text        NOT NULL CHECK (phase IN ('start', 'update', 'end')),
    count_7d     int         NOT NULL,
    baseline_28d double precision NOT NULL,
    p_value      double precision NOT NULL,
    started_at   timestamptz NOT NULL,
    updated_at   timestamptz,
    ended_at     timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS metric_hotspot_open_cell ON metric_hotspot_episodes (cell) WHERE ended_at IS NULL;

-- Incident ingestion: registered sources and their keys, per-source category and area-hint
-- mappings, incidents with their full revision history.

CREATE TABLE IF NOT EXISTS sources (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    name        text        NOT NULL,
    timezone    text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as SHA-256 hex; the key itself is shown once, when created.
-- Rotation adds a key; the old one stays valid until revoked.
CREATE TABLE IF NOT EXISTS source_keys (
    id          bigserial PRIMARY KEY,
    source_id   text        NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    key_hash    text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- The source's own labels mapped onto taxonomy v1 (seeded from Services/IncidentIngestion/Seeds).
CREATE TABLE IF NOT EXISTS category_mappings (
    source_id   text NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    label       text NOT NULL,
    category    text NOT NULL,
    PRIMARY KEY (source_id, label)
);

-- Labels that mapped to nothing (they became `other`), counted for the operator.
CREATE TABLE IF NOT EXISTS unmapped_labels (
    source_id   text        NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    label       text        NOT NULL,
    occurrences bigint      NOT NULL DEFAULT 0,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_id, label)
);

-- A source's area_hint values mapped onto area ids (fallback when no polygon contains a point).
CREATE TABLE IF NOT EXISTS area_hints (
    source_id   text NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    hint        text NOT NULL,
    area_id     text NOT NULL,
    PRIMARY KEY (source_id, hint)
);

-- The current revision of every incident. `document` is the canonical incident
-- (coalition.incident.v1); `content_hash` identifies the submitted content so a repeat
-- changes nothing.
CREATE TABLE IF NOT EXISTS incidents (
    id                 uuid PRIMARY KEY,
    source_id          text        NOT NULL REFERENCES sources (id),
    external_id        text        NOT NULL,
    revision           int         NOT NULL,
    content_hash       text        NOT NULL,
    source_updated_at  timestamptz,
    category           text        NOT NULL,
    area_id            text        NOT NULL,
    occurred_at        timestamptz NOT NULL,
    closed_at          timestamptz,
    document           jsonb       NOT NULL,
    stale_updates      int         NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, external_id)
);
CREATE INDEX IF NOT EXISTS incidents_occurred_at ON incidents (occurred_at);
CREATE INDEX IF NOT EXISTS incidents_area_category ON incidents (area_id, category);

CREATE TABLE IF NOT EXISTS incident_revisions (
    incident_id  uuid        NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    revision     int         NOT NULL,
    document     jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, revision)
);

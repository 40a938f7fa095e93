-- Platform tables shared by every service: the transactional outbox and the consumer inbox.

-- Events a service wants published, written in the same transaction as the state they
-- describe. The relay publishes them in id order (so in order per key) and marks them.
CREATE TABLE IF NOT EXISTS outbox (
    id            bigserial PRIMARY KEY,
    topic         text        NOT NULL,          -- unprefixed topic name, e.g. incidents.normalized
    message_key   bytea,
    headers       jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- CloudEvents attributes as Kafka headers
    payload       bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Event ids a consumer has already applied, written in the same transaction as the
-- effects, so a redelivered event is recognised and skipped.
CREATE TABLE IF NOT EXISTS inbox (
    consumer      text        NOT NULL,
    event_id      text        NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

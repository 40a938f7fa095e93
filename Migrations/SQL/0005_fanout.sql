-- Alert fan-out: stakeholders (shared with the meeting scheduler), their contact channels,
-- subscriptions, and every delivery as a persisted state machine.

CREATE TABLE IF NOT EXISTS stakeholders (
    id            uuid PRIMARY KEY,
    name          text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('law_enforcement', 'community_org', 'local_government',
                                'neighborhood_association', 'school', 'faith_org', 'business', 'service_provider', 'resident')),
    organization  text,
    timezone      text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A webhook keeps its signing secret in clear: Standard Webhooks signs with HMAC, which needs
-- the secret itself (a hash could not sign). During a rotation the previous secret signs too
-- until previous_secret_expires_at.
CREATE TABLE IF NOT EXISTS stakeholder_channels (
    id                          uuid PRIMARY KEY,
    stakeholder_id              uuid        NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    type                        text        NOT NULL CHECK (type IN ('webhook', 'email', 'sms')),
    address                     text        NOT NULL,
    secret                      text,
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    disabled_at                 timestamptz,
    disabled_reason             text,
    consecutive_failures        integer     NOT NULL DEFAULT 0,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    CHECK ((type = 'webhook') = (secret IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS stakeholder_channels_by_stakeholder ON stakeholder_channels (stakeholder_id);

CREATE TABLE IF NOT EXISTS subscriptions (
    id               uuid PRIMARY KEY,
    stakeholder_id   uuid        NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    areas            text[],
    circle_lat       double precision,
    circle_lon       double precision,
    circle_radius_m  double precision,
    categories       text[],
    category_groups  text[],
    min_severity     integer     NOT NULL DEFAULT 1 CHECK (min_severity BETWEEN 1 AND 5),
    channel_ids      uuid[]      NOT NULL,
    mode             text        NOT NULL DEFAULT 'immediate' CHECK (mode IN ('immediate', 'digest_hourly', 'digest_daily')),
    quiet_start      text,
    quiet_end        text,
    notify_closure   boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((circle_lat IS NULL) = (circle_radius_m IS NULL))
);
CREATE INDEX IF NOT EXISTS subscriptions_by_stakeholder ON subscriptions (stakeholder_id);

-- Every change to who is subscribed to what tells the running fan-out to refresh its index.
CREATE OR REPLACE FUNCTION coalition_notify_subscriptions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coalition_subscriptions', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS subscriptions_changed ON subscriptions;
CREATE TRIGGER subscriptions_changed AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION coalition_notify_subscriptions();
DROP TRIGGER IF EXISTS stakeholders_changed ON stakeholders;
CREATE TRIGGER stakeholders_changed AFTER INSERT OR DELETE OR UPDATE OF role, timezone ON stakeholders
    FOR EACH STATEMENT EXECUTE FUNCTION coalition_notify_subscriptions();
-- Only changes that matter to matching: not the delivery bookkeeping (failure counts, last
-- notification, rate-limit window) that every sending round updates.
DROP TRIGGER IF EXISTS stakeholder_channels_changed ON stakeholder_channels;
CREATE TRIGGER stakeholder_channels_changed AFTER INSERT OR DELETE OR UPDATE OF disabled_at, type, stakeholder_id ON stakeholder_channels
    FOR EACH STATEMENT EXECUTE FUNCTION coalition_notify_subscriptions();

-- One row per notification: id is the idempotency key (UUIDv5 of incident, channel and
-- reason), the same across retries and restarts, sent as `webhook-id`. `reason` is `new`,
-- `escalation-<severity>` or `closure`, so at most one of each per incident and channel.
CREATE TABLE IF NOT EXISTS deliveries (
    id               uuid PRIMARY KEY,
    incident_id      uuid,
    revision         integer,
    reason           text        NOT NULL,
    stakeholder_id   uuid        NOT NULL,
    role             text        NOT NULL,
    channel_id       uuid        NOT NULL,
    channel_type     text        NOT NULL,
    severity         integer     NOT NULL,
    state            text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'retrying', 'delivered', 'failed', 'cancelled', 'suppressed')),
    payload          text        NOT NULL,  -- the alert JSON exactly as encoded: every attempt sends these bytes
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    last_status      integer,
    last_error       text,
    ingested_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'retrying');
CREATE INDEX IF NOT EXISTS deliveries_sending ON deliveries (lease_until) WHERE state = 'sending';
CREATE INDEX IF NOT EXISTS deliveries_by_incident ON deliveries (incident_id);

-- Meeting scheduler: venues, availability, meetings and their occurrences, invitees, RSVPs,
-- attendance, hotspot episodes already answered, and per-stakeholder calendar feed tokens.
-- Stakeholders are the fan-out's table (0005_fanout.sql), shared, not copied.

-- GiST over uuid equality plus range overlap: the exclusion constraints below. A trusted
-- extension since PostgreSQL 13, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Opening hours are local times in the venue's own time zone, every day of the week.
CREATE TABLE IF NOT EXISTS venues (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL,
    area        text,
    capacity    integer     NOT NULL CHECK (capacity > 0),
    accessible  boolean     NOT NULL DEFAULT false,
    timezone    text        NOT NULL,
    opens_at    time        NOT NULL DEFAULT '00:00',
    closes_at   time        NOT NULL DEFAULT '24:00',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (opens_at < closes_at)
);

-- Weekly windows in the stakeholder's own time zone (ISO weekday 1 = Monday). A stakeholder
-- with none is available at any time except during busy blocks and their other meetings.
CREATE TABLE IF NOT EXISTS stakeholder_availability (
    stakeholder_id  uuid     NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    weekday         smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_at       time     NOT NULL,
    ends_at         time     NOT NULL,
    CHECK (starts_at < ends_at),
    PRIMARY KEY (stakeholder_id, weekday, starts_at)
);

CREATE TABLE IF NOT EXISTS stakeholder_busy (
    id              uuid PRIMARY KEY,
    stakeholder_id  uuid      NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    during          tstzrange NOT NULL CHECK (NOT isempty(during)),
    reason          text
);
CREATE INDEX IF NOT EXISTS stakeholder_busy_by_stakeholder ON stakeholder_busy USING gist (stakeholder_id, during);

CREATE TABLE IF NOT EXISTS meetings (
    id                  uuid PRIMARY KEY,
    request_id          uuid        NOT NULL UNIQUE,
    type                text        NOT NULL CHECK (type IN ('coalition', 'joint_leadership', 'community_forum', 'workshop', 'emergency')),
    title               text        NOT NULL,
    area                text        NOT NULL,
    timezone            text        NOT NULL,
    duration_minutes    integer     NOT NULL CHECK (duration_minutes > 0),
    buffer_minutes      integer     NOT NULL DEFAULT 0 CHECK (buffer_minutes >= 0),
    -- What the request asked for, kept so a reschedule applies the same rules.
    representation      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    venue_min_capacity  integer,
    venue_accessible    boolean     NOT NULL DEFAULT false,
    venue_id            uuid        REFERENCES venues (id),
    rrule               text,
    status              text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    -- RFC 5545 SEQUENCE: incremented by every reschedule and cancellation.
    sequence            integer     NOT NULL DEFAULT 0,
    hotspot_episode_id  uuid        UNIQUE,
    available_invitees  integer     NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    cancelled_at        timestamptz
);
CREATE INDEX IF NOT EXISTS meetings_by_area ON meetings (area, type) WHERE status = 'scheduled';

CREATE TABLE IF NOT EXISTS meeting_invitees (
    meeting_id      uuid    NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    stakeholder_id  uuid    NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    role            text    NOT NULL,
    required        boolean NOT NULL,
    -- Whether the solver found them available at the chosen slot (first occurrence).
    available       boolean NOT NULL,
    PRIMARY KEY (meeting_id, stakeholder_id)
);

-- One row per occurrence (a single meeting has one). `excluded` occurrences are the
-- recurrence's EXDATEs, with the reason they could not be placed.
CREATE TABLE IF NOT EXISTS meeting_occurrences (
    meeting_id        uuid        NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    occurrence_start  timestamptz NOT NULL,
    occurrence_end    timestamptz NOT NULL,
    venue_id          uuid        REFERENCES venues (id),
    -- The span the venue is taken: the meeting plus its buffers.
    venue_span        tstzrange   NOT NULL,
    status            text        NOT NULL CHECK (status IN ('scheduled', 'excluded', 'cancelled')),
    exclusion_reason  text,
    PRIMARY KEY (meeting_id, occurrence_start),
    -- A venue is never double-booked, whatever runs concurrently.
    EXCLUDE USING gist (venue_id WITH =, venue_span WITH &&) WHERE (status = 'scheduled' AND venue_id IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS meeting_occurrences_by_start ON meeting_occurrences (occurrence_start) WHERE status = 'scheduled';

-- The time each available required attendee is committed to a scheduled occurrence.
CREATE TABLE IF NOT EXISTS attendee_bookings (
    meeting_id        uuid        NOT NULL,
    occurrence_start  timestamptz NOT NULL,
    stakeholder_id    uuid        NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    span              tstzrange   NOT NULL,
    PRIMARY KEY (meeting_id, occurrence_start, stakeholder_id),
    FOREIGN KEY (meeting_id, occurrence_start) REFERENCES meeting_occurrences (meeting_id, occurrence_start) ON DELETE CASCADE,
    -- A required attendee is never in two meetings at once, whatever runs concurrently.
    EXCLUDE USING gist (stakeholder_id WITH =, span WITH &&)
);

-- occurrence_start is '-infinity' for an answer about the whole series.
CREATE TABLE IF NOT EXISTS meeting_rsvps (
    meeting_id        uuid        NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    stakeholder_id    uuid        NOT NULL,
    occurrence_start  timestamptz NOT NULL DEFAULT '-infinity',
    response          text        NOT NULL CHECK (response IN ('accepted', 'declined', 'tentative')),
    responded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, stakeholder_id, occurrence_start),
    FOREIGN KEY (meeting_id, stakeholder_id) REFERENCES meeting_invitees (meeting_id, stakeholder_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS meeting_attendance (
    meeting_id        uuid        NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    stakeholder_id    uuid        NOT NULL,
    occurrence_start  timestamptz NOT NULL,
    attended          boolean     NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, stakeholder_id, occurrence_start),
    FOREIGN KEY (meeting_id, stakeholder_id) REFERENCES meeting_invitees (meeting_id, stakeholder_id) ON DELETE CASCADE
);

-- Every hotspot episode start the scheduler has answered, written in the same transaction as
-- the emergency meeting (if any), so a redelivered or replayed episode changes nothing.
CREATE TABLE IF NOT EXISTS hotspot_episodes_handled (
    episode_id    uuid PRIMARY KEY,
    area          text        NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('scheduled', 'not_needed', 'unschedulable')),
    meeting_id    uuid        REFERENCES meetings (id),
    reason        text,
    handled_at    timestamptz NOT NULL DEFAULT now()
);

-- Calendar feed tokens are secrets: only their SHA-256 is stored.
CREATE TABLE IF NOT EXISTS calendar_feed_tokens (
    token_sha256    text PRIMARY KEY,
    stakeholder_id  uuid        NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS calendar_feed_tokens_by_stakeholder ON calendar_feed_tokens (stakeholder_id);

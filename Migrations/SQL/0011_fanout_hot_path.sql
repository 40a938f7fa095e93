-- The delivery hot path. Every change of a delivery's state writes a new row version and, since
-- `state` appears in the partial indexes, a new entry in each index whose predicate the new
-- version satisfies: the fewer indexes cover terminal rows, the less each transition costs, and
-- the less the live-state indexes carry between two vacuums.

-- A group's members are looked up by notification_id only to retry the group (the claim of a
-- leader row in `pending` or `retrying`). Indexing every grouped row, including the ones long
-- delivered, added an entry on each of their transitions and grew with the history; now only
-- groups waiting for another attempt are in it (a delivery joins its group in the same UPDATE
-- that claims it, so a first attempt never passes through here).
DROP INDEX IF EXISTS deliveries_by_notification;
CREATE INDEX IF NOT EXISTS deliveries_group_retry ON deliveries (notification_id)
    WHERE state IN ('pending', 'retrying') AND notification_id IS NOT NULL;

-- Every delivered notification updates its channel (last_notified_at, failure count): room on
-- each page lets that be a heap-only update, with no new index entries. Applies to pages
-- written from now on.
ALTER TABLE stakeholder_channels SET (fillfactor = 80);

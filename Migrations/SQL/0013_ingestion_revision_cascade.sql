-- Incident ingestion: the revision history keeps its ON DELETE CASCADE, but through a
-- trigger instead of a foreign key.
--
-- The store writes an incident and its revisions in one statement, so a revision never exists
-- without its incident. The foreign key re-checked that for every revision, with a query and a
-- row lock on the incident just written: in the ingestion benchmark about 5 µs of database CPU
-- per revision (55-56 instead of 59-62 µs per incident). Deleting an incident still deletes
-- its revisions.

ALTER TABLE incident_revisions DROP CONSTRAINT IF EXISTS incident_revisions_incident_id_fkey;

CREATE OR REPLACE FUNCTION incident_revisions_cascade() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM incident_revisions WHERE incident_id = OLD.id;
    RETURN OLD;
END
$$;

DROP TRIGGER IF EXISTS incident_revisions_cascade ON incidents;
CREATE TRIGGER incident_revisions_cascade AFTER DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incident_revisions_cascade();

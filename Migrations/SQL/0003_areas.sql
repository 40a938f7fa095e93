-- Areas imported by the operator (GeoJSON Polygon / MultiPolygon geometries). A point is
-- assigned to the area that contains it, else through the source's area_hints, else
-- `unassigned`.
CREATE TABLE IF NOT EXISTS areas (
    id           text PRIMARY KEY,
    name         text,
    geometry     jsonb       NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now()
);

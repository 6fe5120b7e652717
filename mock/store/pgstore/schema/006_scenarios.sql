-- The scenarios last loaded through the control API (POST
-- /_sandbox/scenarios), as the YAML uploaded: every replica loads them at
-- start and when version moves, so a scenario uploaded through one picks
-- the payments created through any other. One row at most; none until a
-- first upload (replicas use their --scenarios until then). A reset keeps
-- it, as one process keeps the scenarios loaded.
CREATE TABLE scenarios (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL,
    yaml    bytea NOT NULL
);

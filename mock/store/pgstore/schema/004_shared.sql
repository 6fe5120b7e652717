-- Several replicas on one database (store.Shared): due work lives here, not
-- in one process's scheduler, so whichever replica is alive runs it.

-- A pending delivery's next attempt is claimed by one replica at a time: it
-- holds the lease until lease_until (wall time, the database's clock), long
-- enough for the attempt's timeout (lease_ns); a replica that dies holding
-- it loses nothing: once the lease is over, another claims it.
ALTER TABLE deliveries
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN lease_owner text NOT NULL DEFAULT '',
    ADD COLUMN lease_ns    bigint NOT NULL DEFAULT 15000000000;
CREATE INDEX deliveries_due ON deliveries (due_at);

-- A transaction's next due event (its expiry, or a step of its scenario's
-- timeline), in its merchant's sandbox time; NULL when nothing is to come.
-- timeline_until: the sandbox time up to which its timeline has run (NULL:
-- none of it). timer_lease: a replica is running its due events.
ALTER TABLE transactions
    ADD COLUMN next_at        timestamptz,
    ADD COLUMN timeline_until timestamptz,
    ADD COLUMN timer_lease    timestamptz;
UPDATE transactions SET next_at = created_at WHERE status = 'PENDING' OR record->>'scenario' <> '';
CREATE INDEX transactions_next ON transactions (next_at) WHERE next_at IS NOT NULL;

-- The sandbox clocks: the global one (client_id '') and merchants' own.
-- A clock reads sim, plus in real mode the wall time passed since wall_at
-- times speed.
CREATE TABLE clocks (
    client_id text PRIMARY KEY,
    mode      text NOT NULL,
    speed     double precision NOT NULL,
    sim       timestamptz NOT NULL,
    wall_at   timestamptz NOT NULL
);

-- sandbox_now is a merchant's sandbox time ('' for the global clock's):
-- its own clock's, else the global one's, else the wall time.
CREATE FUNCTION sandbox_now(cid text) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT CASE WHEN mode = 'virtual' THEN sim ELSE sim + (clock_timestamp() - wall_at) * speed END
        FROM clocks WHERE client_id IN (cid, '') ORDER BY client_id DESC LIMIT 1), clock_timestamp())
$$;

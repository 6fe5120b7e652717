-- Retention (store.Store's Evict and Usage) and lists a page at a time.

-- When a transaction last changed (wall time): finished ones are evicted
-- in that order, and by that age. journal_from is the journal's last id
-- when it was created: its reference's attempts are those after it (an
-- evicted payment's reference may be used again). attempts and
-- last_outcome sum up its journal, evicted attempts included.
ALTER TABLE transactions
    ADD COLUMN changed_at   timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN journal_from bigint NOT NULL DEFAULT 0,
    ADD COLUMN attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN last_outcome text NOT NULL DEFAULT '';
CREATE INDEX transactions_finished ON transactions (changed_at) WHERE status <> 'PENDING';

ALTER TABLE journal ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();

-- A pending delivery keeps its transaction from eviction.
ALTER TABLE deliveries ADD COLUMN reference text NOT NULL DEFAULT '';
UPDATE deliveries SET reference = record->'note'->>'referenceNumber';
CREATE INDEX deliveries_by_reference ON deliveries (client_id, reference);

-- What was evicted since the last reset: transactions by status
-- (kind 'status') and attempts by outcome (kind 'outcome'), so counts
-- still include them.
CREATE TABLE evicted (
    kind text NOT NULL,
    name text NOT NULL,
    n    bigint NOT NULL,
    PRIMARY KEY (kind, name)
);

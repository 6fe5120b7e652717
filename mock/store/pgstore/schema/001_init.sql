-- The sandbox's state: what store.Store keeps, one table each.

-- Transaction numbers and delivery ids come from sequences, handed out in
-- blocks of 100 (a replica keeps a block in memory), never reused.
CREATE SEQUENCE tx_seq INCREMENT BY 100;
CREATE SEQUENCE delivery_seq INCREMENT BY 100;
-- Moves on every change, for the dashboards' live updates on every replica.
CREATE SEQUENCE change_seq;

CREATE TABLE transactions (
    seq        bigint PRIMARY KEY,
    client_id  text NOT NULL,
    reference  text NOT NULL,
    number     text NOT NULL UNIQUE,
    status     text NOT NULL,
    created_at timestamptz NOT NULL,
    expired_at timestamptz NOT NULL,
    record     jsonb NOT NULL,
    -- A reference is the merchant's own: used once per merchant, across
    -- every replica.
    UNIQUE (client_id, reference)
);
CREATE INDEX transactions_by_client ON transactions (client_id, seq);

CREATE TABLE journal (
    id          bigserial PRIMARY KEY,
    client_id   text NOT NULL,
    reference   text NOT NULL,
    delivery_id text NOT NULL,
    outcome     text NOT NULL,
    attempt     jsonb NOT NULL
);
CREATE INDEX journal_by_reference ON journal (client_id, reference, id);

-- Deliveries not finished: the next attempt's due time, in the merchant's
-- sandbox time.
CREATE TABLE deliveries (
    id        text PRIMARY KEY,
    client_id text NOT NULL,
    due_at    timestamptz NOT NULL,
    record    jsonb NOT NULL
);
CREATE INDEX deliveries_by_client ON deliveries (client_id);

CREATE TABLE merchants (
    client_id text PRIMARY KEY,
    record    jsonb NOT NULL
);

-- What the control API set per merchant (store.Control): its scoped
-- token, as a SHA-256 digest only, and whether its notifies are relayed to
-- its listener. Configured merchants have one too, so it is not a column
-- of merchants. A row with neither is deleted, not kept.
CREATE TABLE controls (
    client_id  text PRIMARY KEY,
    token_hash text NOT NULL DEFAULT '',
    relay      boolean NOT NULL DEFAULT false
);

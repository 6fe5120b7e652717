-- Which replica holds a merchant's `bjpay-sandbox listen` WebSocket: while
-- one does (its lease_until not passed), only it claims that merchant's
-- deliveries, so relayed attempts reach the listener instead of being
-- journalled listener-offline by a replica without it. The holder renews
-- the lease while the listener stays, and deletes the row when it leaves;
-- a replica that dies holding one holds it no more once the lease is over.
CREATE TABLE listeners (
    client_id   text PRIMARY KEY,
    owner       text NOT NULL,
    lease_until timestamptz NOT NULL
);

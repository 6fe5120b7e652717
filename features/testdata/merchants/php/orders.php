<?php
// Orders, in a JSON file: the built-in server runs each request afresh.
declare(strict_types=1);

function orders_file(): string
{
    return (getenv('DATA_DIR') ?: sys_get_temp_dir()) . '/bjpay-shop-orders-' . $_SERVER['SERVER_PORT'] . '.json';
}

/** Runs $change on the orders under an exclusive lock, saves them, and returns what it returned. */
function with_orders(callable $change): mixed
{
    $fh = fopen(orders_file(), 'c+');
    flock($fh, LOCK_EX);
    try {
        $orders = json_decode(stream_get_contents($fh) ?: '{}', true);
        $result = $change($orders);
        ftruncate($fh, 0);
        rewind($fh);
        fwrite($fh, json_encode($orders, JSON_FORCE_OBJECT));
        return $result;
    } finally {
        flock($fh, LOCK_UN);
        fclose($fh);
    }
}

function find_order(string $ref): ?array
{
    return with_orders(fn (array &$orders) => $orders[$ref] ?? null);
}

<?php
// A plain-PHP shop taking BJPAY payments, served by PHP's built-in server:
//
//     BJPAY_BASE_URL=http://127.0.0.1:18080 php -S 127.0.0.1:3000 index.php
//
// POST /checkout {"amount": 58000, "paymentCode": "VA-BNI"} creates a
// payment, POST /webhook/bjpay receives BJPAY's notifies, GET /orders/{ref}
// shows an order ("credited" counts the credits it got). MISTAKE=<name>
// switches on one realistic mistake (see bjpay.php) for the conformance
// suite to catch.
declare(strict_types=1);

require __DIR__ . '/bjpay.php';
require __DIR__ . '/orders.php';

function reply(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($body);
}

function checkout(): void
{
    $in = json_decode(file_get_contents('php://input'), true);
    if (!is_int($in['amount'] ?? null) || $in['amount'] <= 0 || empty($in['paymentCode'])) {
        reply(400, ['error' => 'expected {"amount": 58000, "paymentCode": "VA-BNI"}']);
        return;
    }
    $ref = 'ORDER-' . bin2hex(random_bytes(6));
    $me = 'http://' . $_SERVER['HTTP_HOST'];
    [$status, $created] = bjpay_create_payment([
        'paymentCode' => $in['paymentCode'], 'referenceNumber' => $ref, 'customerName' => 'Budi Santoso',
        'customerEmail' => 'budi@example.com', 'customerPhoneNumber' => '6281234567890',
        'finishNotifyUrl' => "$me/webhook/bjpay", 'finishReturnUrl' => "$me/orders/$ref",
        'totalAmount' => $in['amount'], 'items' => [['name' => "Order $ref", 'quantity' => 1, 'amount' => $in['amount']]],
    ]);
    if ($status !== 200 || ($created['code'] ?? '') !== 'OK') {
        reply(502, ['error' => "BJPAY refused the payment: HTTP $status", 'bjpay' => $created]);
        return;
    }
    with_orders(function (array &$orders) use ($ref, $in) {
        $orders[$ref] = ['referenceNumber' => $ref, 'amount' => $in['amount'], 'status' => 'PENDING', 'credited' => 0];
    });
    reply(201, ['referenceNumber' => $ref, 'status' => 'PENDING', 'paymentDest' => $created['data']['paymentDest']]);
}

function notify(): void
{
    $raw = file_get_contents('php://input');
    $n = bjpay_read_notify($raw);
    if ($n === null) {
        reply(400, ['error' => 'not a BJPAY notify']);
        return;
    }
    $problem = bjpay_verify($_SERVER['HTTP_X_SIGNATURE'] ?? '', $_SERVER['HTTP_X_REQUEST_TIME'] ?? '', $n);
    if ($problem !== null) {
        error_log("notify refused: $problem");
        reply(401, ['error' => $problem]);
        return;
    }
    [$status, $answer] = with_orders(function (array &$orders) use ($n) {
        if (!isset($orders[$n['referenceNumber']])) {
            if (MISTAKE === 'unknown-500') {
                throw new RuntimeException("order {$n['referenceNumber']} not found");
            }
            return [200, ['result' => 'unknown order, ignored']];
        }
        $order = &$orders[$n['referenceNumber']];
        if ($n['totalAmount'] !== $order['amount']) {
            return [400, ['error' => "totalAmount {$n['totalAmount']} is not the order's {$order['amount']}"]];
        }
        if ($n['status'] === 'PAID' && $order['status'] !== 'PAID') {
            $order['status'] = 'PAID';
            $order['credited']++;
        } elseif ($order['status'] === 'PENDING' && $n['status'] !== 'PAID') {
            $order['status'] = $n['status'];
        }
        return [200, ['result' => 'ok', 'status' => $order['status']]];
    });
    reply($status, $answer);
}

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
try {
    match (true) {
        $_SERVER['REQUEST_METHOD'] === 'POST' && $path === '/checkout' => checkout(),
        $_SERVER['REQUEST_METHOD'] === 'POST' && $path === '/webhook/bjpay' => notify(),
        $_SERVER['REQUEST_METHOD'] === 'GET' && preg_match('#^/orders/([\w.-]+)$#', $path, $m) === 1 =>
            ($order = find_order($m[1])) ? reply(200, $order) : reply(404, ['error' => 'no such order']),
        default => reply(404, ['error' => "no route for {$_SERVER['REQUEST_METHOD']} $path"]),
    };
} catch (Throwable $e) {
    error_log((string) $e);
    reply(500, ['error' => 'internal error']);
}

<?php
// BJPAY: create a payment, read and verify a notify.
declare(strict_types=1);

define('BJPAY_BASE_URL', getenv('BJPAY_BASE_URL') ?: 'http://127.0.0.1:18080');
define('BJPAY_CLIENT_ID', getenv('BJPAY_CLIENT_ID') ?: '2f9d6a0e-1c3b-4d5e-8f70-123456789abc');
define('BJPAY_CLIENT_SECRET', getenv('BJPAY_CLIENT_SECRET') ?: 'merchant-secret');
const REPLAY_WINDOW = 300; // seconds either side of our clock

const MISTAKES = [
    'verify-paid-only' => 'checks X-Signature on PAID notifies only: an EXPIRED or FAILED one is taken as it comes',
    'number-format' => 'signs the amount as number_format() writes it, "58,000"',
    'regex-fields' => 'reads the fields from the raw body with a regular expression instead of json_decode',
    'unknown-500' => 'throws, so answers 500, on a notify for an order it does not know',
];
define('MISTAKE', getenv('MISTAKE') ?: '');
if (MISTAKE !== '' && !isset(MISTAKES[MISTAKE])) {
    error_log('MISTAKE=' . MISTAKE . '; expected one of ' . implode(', ', array_keys(MISTAKES)));
    exit(1);
}

/** @return array{int, ?array} the HTTP status and the decoded answer */
function bjpay_create_payment(array $payment): array
{
    $context = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => implode("\r\n", [
            'Content-Type: application/json',
            'X-Client-Id: ' . BJPAY_CLIENT_ID,
            'X-Client-Secret: ' . BJPAY_CLIENT_SECRET,
            'X-Request-Time: ' . date('c'),
        ]),
        'content' => json_encode($payment),
        'timeout' => 10,
        'ignore_errors' => true, // read the answer of a 4xx too
    ]]);
    $body = @file_get_contents(BJPAY_BASE_URL . '/api/merchant/transaction/create', false, $context);
    $status = (int) explode(' ', $http_response_header[0] ?? 'HTTP/1.1 0')[1];
    return [$status, $body === false ? null : json_decode($body, true)];
}

/** The notify's fields, or null when the body is not one. */
function bjpay_read_notify(string $raw): ?array
{
    if (MISTAKE === 'regex-fields') {
        // Quicker than decoding the whole body: the fields we need are always there.
        $n = [];
        foreach (['referenceNumber', 'paymentCode', 'status'] as $name) {
            if (preg_match('/"' . $name . '":"([^"]*)"/', $raw, $m) !== 1) {
                return null;
            }
            $n[$name] = $m[1];
        }
        if (preg_match('/"totalAmount":(\d+)/', $raw, $m) !== 1) {
            return null;
        }
        return $n + ['totalAmount' => (int) $m[1]];
    }
    $n = json_decode($raw, true);
    return is_array($n) && isset($n['referenceNumber'], $n['paymentCode'], $n['status'], $n['totalAmount']) ? $n : null;
}

/** What is wrong with the notify's signature or time, or null. */
function bjpay_verify(string $signature, string $stamp, array $n): ?string
{
    if (MISTAKE === 'verify-paid-only' && $n['status'] !== 'PAID') {
        return null; // "only a payment needs proof"
    }
    $at = strtotime($stamp);
    if ($at === false || abs(time() - $at) > REPLAY_WINDOW) {
        return "X-Request-Time '$stamp' is not within 5 minutes of our clock";
    }
    $amount = MISTAKE === 'number-format' ? number_format($n['totalAmount']) : (string) $n['totalAmount'];
    $payload = "$stamp:{$n['referenceNumber']}:{$n['paymentCode']}:$amount";
    $want = hash_hmac('sha256', $payload, md5(BJPAY_CLIENT_ID . ':' . BJPAY_CLIENT_SECRET));
    return hash_equals($want, $signature) ? null : 'X-Signature does not verify';
}

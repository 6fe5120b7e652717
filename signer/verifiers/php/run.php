<?php
// Drives VerifyBjpaySignature for signer/verifiers/run: vectors | fixtures NOW ID SECRET.

declare(strict_types=1);

require __DIR__ . '/VerifyBjpaySignature.php';

$args = array_slice($argv, 1);
$passed = $failed = 0;
$fail = function (string $what, string $why) use (&$failed): void {
    $failed++;
    echo "FAIL $what: $why\n";
};

if ($args === ['vectors']) {
    foreach (file('php://stdin') as $i => $line) {
        if (trim($line) === '') {
            continue;
        }
        $v = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
        if (VerifyBjpaySignature::validSignature($v['client_id'], $v['client_secret'], $v['timestamp'], $v['referenceNumber'], $v['paymentCode'], $v['amount'], $v['signature'])) {
            $passed++;
        } else {
            $fail('line ' . ($i + 1), 'signature does not match for amount ' . var_export($v['amount'], true));
        }
    }
} elseif (count($args) === 4 && $args[0] === 'fixtures') {
    [, $now, $clientId, $clientSecret] = $args;
    $now = (new DateTimeImmutable($now))->getTimestamp();
    foreach (json_decode(file_get_contents('php://stdin'), true, 512, JSON_THROW_ON_ERROR) as $f) {
        $reason = VerifyBjpaySignature::check($f['headers'], $f['body'], $clientId, $clientSecret, $now);
        if (($reason === null ? 'accept' : 'reject') === $f['expect']) {
            $passed++;
        } else {
            $fail($f['name'], ($reason === null ? 'accepted' : "rejected ($reason)") . "; expected {$f['expect']}");
        }
    }
} else {
    fwrite(STDERR, "usage: run.php vectors < vectors.jsonl | run.php fixtures NOW CLIENT_ID CLIENT_SECRET < fixtures.json\n");
    exit(2);
}
echo "$passed passed, $failed failed\n";
exit($failed ? 1 : 0);

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
        try {
            $v = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
            $fields = array_map(fn (string $k) => $v[$k] ?? null, ['client_id', 'client_secret', 'timestamp', 'referenceNumber', 'paymentCode', 'amount', 'signature']);
            $valid = VerifyBjpaySignature::validSignature(...$fields);
        } catch (JsonException | TypeError $e) {
            $fail('line ' . ($i + 1), 'not a signature vector: ' . $e->getMessage());
            continue;
        }
        if ($valid) {
            $passed++;
        } else {
            $fail('line ' . ($i + 1), 'signature does not match for amount ' . var_export($fields[5], true));
        }
    }
} elseif (count($args) === 4 && $args[0] === 'fixtures') {
    [, $now, $clientId, $clientSecret] = $args;
    $now = (new DateTimeImmutable($now))->getTimestamp();
    try {
        $fixtures = json_decode(file_get_contents('php://stdin'), true, 512, JSON_THROW_ON_ERROR);
    } catch (JsonException $e) {
        fwrite(STDERR, 'stdin is not the JSON array `bjpay-sandbox fixture` writes: ' . $e->getMessage() . "\n");
        exit(2);
    }
    foreach ($fixtures as $f) {
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

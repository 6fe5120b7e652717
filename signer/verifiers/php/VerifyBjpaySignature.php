<?php

declare(strict_types=1);

use Symfony\Component\HttpFoundation\Request; // Laravel's Illuminate\Http\Request extends it
use Symfony\Component\HttpFoundation\Response;

/**
 * Laravel middleware that verifies BJPAY's X-Signature on a notify, from the
 * raw headers and raw body, and answers 401 with the reason when it fails.
 *
 *     // app/Http/Middleware/VerifyBjpaySignature.php; config/services.php has bjpay.client_id and bjpay.client_secret
 *     Route::post('/webhook/bjpay', BjpayNotifyController::class)->middleware(VerifyBjpaySignature::class);
 *
 * Without Laravel, call VerifyBjpaySignature::check() with the headers and body.
 */
final class VerifyBjpaySignature
{
    /** Seconds X-Request-Time may be from now, either way; BJPAY documents none. */
    public const REPLAY_WINDOW = 300;

    private string $clientId;
    private string $clientSecret;

    public function __construct(?string $clientId = null, ?string $clientSecret = null)
    {
        $config = function_exists('config') ? config('services.bjpay') : null;
        $this->clientId = $clientId ?? $config['client_id'] ?? (string) getenv('BJPAY_CLIENT_ID');
        $this->clientSecret = $clientSecret ?? $config['client_secret'] ?? (string) getenv('BJPAY_CLIENT_SECRET');
    }

    public function handle(Request $request, Closure $next): Response
    {
        $reason = self::check($request->headers->all(), $request->getContent(), $this->clientId, $this->clientSecret, time());
        return $reason === null ? $next($request) : new Response($reason, 401, ['Content-Type' => 'text/plain']);
    }

    /**
     * Why the notify must be refused, or null if it is valid.
     *
     * @param array<string, string|list<string>> $headers names in any case
     */
    public static function check(array $headers, string $body, string $clientId, string $clientSecret, int $now, int $window = self::REPLAY_WINDOW): ?string
    {
        $headers = array_change_key_case($headers, CASE_LOWER);
        $signature = (string) current((array) ($headers['x-signature'] ?? ''));
        $timestamp = (string) current((array) ($headers['x-request-time'] ?? ''));
        if ($signature === '') {
            return 'the X-Signature header is missing';
        }
        if ($timestamp === '') {
            return 'the X-Request-Time header is missing';
        }
        $notify = json_decode($body, true);
        ['referenceNumber' => $reference, 'paymentCode' => $code, 'totalAmount' => $amount] = (is_array($notify) ? $notify : []) + array_fill_keys(['referenceNumber', 'paymentCode', 'totalAmount'], null);
        if (!is_string($reference) || !is_string($code) || !(is_int($amount) || is_float($amount)) || !is_finite((float) $amount)) {
            return 'the body needs referenceNumber and paymentCode strings and a totalAmount number: ' . (json_last_error() ? json_last_error_msg() : 'they are missing or of another type');
        }
        if (!self::validSignature($clientId, $clientSecret, $timestamp, $reference, $code, $amount, $signature)) {
            return 'X-Signature does not match the payload ' . json_encode(self::payload($timestamp, $reference, $code, $amount), JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        }
        $sent = DateTimeImmutable::createFromFormat(DATE_ATOM, $timestamp);
        if ($sent === false) {
            return "X-Request-Time $timestamp is not an ISO 8601 time such as 2024-09-20T20:32:36+07:00";
        }
        $age = $now - $sent->getTimestamp();
        return abs($age) > $window ? "X-Request-Time $timestamp is $age s from now, outside ±$window s: a replay or a wrong clock" : null;
    }

    /** Whether $signature is BJPAY's for these values, compared in constant time. */
    public static function validSignature(string $clientId, string $clientSecret, string $timestamp, string $reference, string $code, int|float $amount, string $signature): bool
    {
        return hash_equals(hash_hmac('sha256', self::payload($timestamp, $reference, $code, $amount), md5("$clientId:$clientSecret")), $signature);
    }

    private static function payload(string $timestamp, string $reference, string $code, int|float $amount): string
    {
        return "$timestamp:$reference:$code:" . self::jsNumber((float) $amount);
    }

    /**
     * $x as JavaScript's String($x) writes it: 58000, 15000.5, 1e+21, 1e-7.
     * json_decode gives an int for 58000 and a float for 58000.0; JavaScript
     * has one Number type, hence the float. json_encode writes the shortest
     * digits that round-trip (as JavaScript does) when serialize_precision is
     * -1, PHP's default, set here in case the application changed it; only
     * the layout (where the point goes, when to use an exponent) differs.
     */
    public static function jsNumber(float $x): string
    {
        if ($x == 0) {
            return '0';
        }
        $precision = ini_set('serialize_precision', '-1');
        $repr = json_encode(abs($x));
        ini_set('serialize_precision', (string) $precision);
        preg_match('/^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i', $repr, $m);
        $all = $m[1] . ($m[2] ?? '');
        $s = ltrim($all, '0');
        $n = strlen($m[1]) + (int) ($m[3] ?? 0) - strlen($all) + strlen($s); // $x = 0.$s × 10**$n
        $s = rtrim($s, '0');
        $k = strlen($s);
        $out = match (true) {
            $k <= $n && $n <= 21 => $s . str_repeat('0', $n - $k),
            0 < $n && $n <= 21 => substr($s, 0, $n) . '.' . substr($s, $n),
            -6 < $n && $n <= 0 => '0.' . str_repeat('0', -$n) . $s,
            default => $s[0] . ($k > 1 ? '.' . substr($s, 1) : '') . 'e' . ($n > 0 ? '+' : '-') . abs($n - 1),
        };
        return ($x < 0 ? '-' : '') . $out;
    }
}

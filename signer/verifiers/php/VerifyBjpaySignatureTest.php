<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;

require_once 'Symfony/Component/HttpFoundation/autoload.php'; // Debian's php-symfony-http-foundation
require_once __DIR__ . '/VerifyBjpaySignature.php';

final class VerifyBjpaySignatureTest extends TestCase
{
    // BJPAY's documented reference vector (bjpay-api.md §6).
    private const ID = 'test-client-id';
    private const SECRET = 'test-client-secret';
    private const TIMESTAMP = '2024-09-20T20:32:36+07:00';
    private const SIGNATURE = 'f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf';
    private const NOW = 1726839156;

    private static function body(array $change = []): string
    {
        return json_encode(array_merge(['referenceNumber' => 'TX_556622123344', 'paymentCode' => 'GOPAY', 'totalAmount' => 15000, 'status' => 'PAID'], $change));
    }

    /** @dataProvider numbers */
    public function testJsNumber(float $x, string $want): void
    {
        $this->assertSame($want, VerifyBjpaySignature::jsNumber($x));
    }

    public static function numbers(): array // what String(x) prints in Node
    {
        return [[58000, '58000'], [15000.5, '15000.5'], [1e21, '1e+21'], [1e20, '100000000000000000000'], [1e-7, '1e-7'],
            [0.000001, '0.000001'], [0.1 + 0.2, '0.30000000000000004'], [-0.0, '0'], [2 ** 60, '1152921504606847000'], [5e-324, '5e-324']];
    }

    /** @dataProvider refusals */
    public function testRefusedWithAReason(array $headers, string $body, int $now, string $reason): void
    {
        $this->assertStringContainsString($reason, (string) VerifyBjpaySignature::check($headers, $body, self::ID, self::SECRET, $now));
    }

    public static function refusals(): array
    {
        $h = ['x-signature' => [self::SIGNATURE], 'X-Request-Time' => self::TIMESTAMP]; // as Symfony, or as plain strings
        return [
            'no signature' => [['X-Request-Time' => self::TIMESTAMP], self::body(), self::NOW, 'X-Signature header is missing'],
            'another amount' => [$h, self::body(['totalAmount' => 15001]), self::NOW, ':GOPAY:15001"'],
            'an amount as a string' => [$h, self::body(['totalAmount' => '15000']), self::NOW, 'a totalAmount number'],
            'not JSON' => [$h, '{not json', self::NOW, 'Syntax error'],
            'stale' => [$h, self::body(), self::NOW + 301, 'is 301 s from now'],
            'from the future' => [$h, self::body(), self::NOW - 301, 'is -301 s from now'],
        ];
    }

    public function testAcceptedWithinTheWindow(): void
    {
        foreach ([self::NOW, self::NOW + 300, self::NOW - 300] as $now) {
            $this->assertNull(VerifyBjpaySignature::check(['X-Signature' => self::SIGNATURE, 'x-request-time' => self::TIMESTAMP], self::body(), self::ID, self::SECRET, $now));
        }
    }

    public function testMiddlewareRefusesWith401(): void
    {
        $request = Request::create('/webhook/bjpay', 'POST', server: ['HTTP_X_SIGNATURE' => self::SIGNATURE, 'HTTP_X_REQUEST_TIME' => self::TIMESTAMP], content: self::body());
        $next = fn (Request $r): Response => new Response('paid');
        $response = (new VerifyBjpaySignature(self::ID, self::SECRET))->handle($request, $next);
        $this->assertSame(401, $response->getStatusCode()); // the reference vector is from 2024: a replay now
        $this->assertStringContainsString('outside ±300 s', $response->getContent());

        $wrongSecret = (new VerifyBjpaySignature(self::ID, 'another-secret'))->handle($request, $next);
        $this->assertStringContainsString('X-Signature does not match', $wrongSecret->getContent());
    }

    public function testMiddlewarePassesAFreshNotifyOn(): void
    {
        $timestamp = date(DATE_ATOM);
        $signature = hash_hmac('sha256', "$timestamp:TX_556622123344:GOPAY:15000", md5(self::ID . ':' . self::SECRET));
        $request = Request::create('/webhook/bjpay', 'POST', server: ['HTTP_X_SIGNATURE' => $signature, 'HTTP_X_REQUEST_TIME' => $timestamp], content: self::body());
        $response = (new VerifyBjpaySignature(self::ID, self::SECRET))->handle($request, fn (Request $r): Response => new Response('paid'));
        $this->assertSame([200, 'paid'], [$response->getStatusCode(), $response->getContent()]);
    }
}

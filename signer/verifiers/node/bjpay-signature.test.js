// node --test: the verifier's verdicts and reasons, and the middleware on a real HTTP server.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const { verifyNotify, validSignature, bjpayNotify } = require('./bjpay-signature');

// BJPAY's documented reference vector (bjpay-api.md §6).
const id = 'test-client-id';
const secret = 'test-client-secret';
const timestamp = '2024-09-20T20:32:36+07:00';
const signature = 'f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf';
const now = Date.parse(timestamp);
const body = (change = {}) => JSON.stringify({ referenceNumber: 'TX_556622123344', paymentCode: 'GOPAY', totalAmount: 15000, status: 'PAID', ...change });

test('the reference vector', () => {
  assert.ok(validSignature(id, secret, timestamp, 'TX_556622123344', 'GOPAY', 15000, signature));
  assert.ok(!validSignature(id, secret, timestamp, 'TX_556622123344', 'GOPAY', 15000, signature.toUpperCase()));
});

for (const [name, headers, raw, at, reason] of [
  ['no signature', { 'x-request-time': timestamp }, body(), now, 'X-Signature header is missing'],
  ['another amount', { 'x-signature': signature, 'x-request-time': timestamp }, body({ totalAmount: 15001 }), now, ':GOPAY:15001"'],
  ['an amount as a string', { 'x-signature': signature, 'x-request-time': timestamp }, body({ totalAmount: '15000' }), now, 'a totalAmount number'],
  ['stale', { 'x-signature': signature, 'x-request-time': timestamp }, body(), now + 301000, 'is 301 s from now'],
  ['from the future', { 'x-signature': signature, 'x-request-time': timestamp }, body(), now - 301000, 'is -301 s from now'],
]) {
  test(`refused: ${name}`, () => {
    assert.throws(() => verifyNotify({ headers, rawBody: raw, clientId: id, clientSecret: secret, now: at }), (e) => e.message.includes(reason));
  });
}

test('accepted within the window, headers in any case', () => {
  for (const at of [now, now + 300000, now - 300000]) {
    const got = verifyNotify({ headers: { 'X-Signature': signature, 'X-REQUEST-TIME': timestamp }, rawBody: Buffer.from(body()), clientId: id, clientSecret: secret, now: at });
    assert.strictEqual(got.status, 'PAID');
  }
});

test('middleware answers 401 with the reason, or passes the notify on', async (t) => {
  const server = http.createServer((req, res) => {
    bjpayNotify({ clientId: id, clientSecret: secret, windowMs: Infinity })(req, res, (err) => {
      res.end(err ? `error ${err}` : `paid ${req.bjpayNotify.referenceNumber}`);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const post = (headers, raw) => fetch(`http://127.0.0.1:${server.address().port}/`, { method: 'POST', headers, body: raw });
  const ok = await post({ 'X-Signature': signature, 'X-Request-Time': timestamp }, body());
  assert.deepStrictEqual([ok.status, await ok.text()], [200, 'paid TX_556622123344']);
  const bad = await post({ 'X-Signature': signature, 'X-Request-Time': timestamp }, body({ totalAmount: 15000.5 }));
  assert.strictEqual(bad.status, 401);
  assert.match(await bad.text(), /does not match the payload .*:GOPAY:15000\.5"/);
});

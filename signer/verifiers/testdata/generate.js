// Writes extra.jsonl: signature vectors in the format of
// ../../testdata/public.jsonl, computed as BJPAY's JavaScript computes
// them (md5 key, HMAC-SHA256, the amount as String(JSON.parse(literal))),
// for the amounts and strings verifiers get wrong: decimals, large and
// tiny numbers, exponent forms, numbers past 2^53, literals that are not
// written the way JavaScript writes them (15000.0, 1.5E4, 1e23 as digits),
// empty and Unicode fields.
//
//   node signer/verifiers/testdata/generate.js > signer/verifiers/testdata/extra.jsonl
'use strict';
const crypto = require('node:crypto');

const sign = (id, secret, ts, ref, code, amount) => {
  const key = crypto.createHash('md5').update(`${id}:${secret}`).digest('hex');
  return crypto.createHmac('sha256', key).update(`${ts}:${ref}:${code}:${amount}`).digest('hex');
};

// A fixed-seed generator (mulberry32), so the file is the same every run.
let seed = 20261124;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const bits = new DataView(new ArrayBuffer(8));
const randomDouble = () => { // any finite positive double, by its bits
  for (;;) {
    bits.setUint32(0, Math.floor(random() * 0x7ff00000));
    bits.setUint32(4, Math.floor(random() * 2 ** 32));
    const x = bits.getFloat64(0);
    if (Number.isFinite(x) && x > 0) return x;
  }
};

// Amount literals as they appear in the JSON. Most are written by
// JSON.stringify (JavaScript's own form); some are written otherwise, as
// another language's encoder may write them.
const literals = [
  '58000', '15000', '15000.5', '10000.25', '0.5', '0.1', '0.01', '0.30000000000000004', '4.35', '1.005',
  '58000.0', '15000.50', '1.5E4', '1.5e+4', '5.8e4', '-0', '0.0', '1e0', '100e-2',
  '1e21', '1E21', '1e+21', '1000000000000000000000', '999999999999999999999', '100000000000000000000',
  '123456789012345678901234567890', '100000000000000000000000', '1e23', '9.999999999999999e22',
  '9007199254740991', '9007199254740992', '9007199254740993', '18014398509481985', '1152921504606846976',
  '12345678901234567890', '1.7976931348623157e308', '2.2250738585072014e-308', '5e-324', '4.9406564584124654e-324',
  '0.000001', '0.0000001', '1e-7', '1.5e-7', '0.00001234', '123e-20', '-58000', '-1e-7', '-1.5e21',
];
for (let i = 0; i < 40; i++) literals.push(String(Math.round(random() * 1e10) / 100)); // rupiah with cents
for (let i = 0; i < 20; i++) literals.push(String(Math.round(random() * 5e7) * 1000)); // whole thousands
for (let i = 0; i < 150; i++) literals.push(JSON.stringify(randomDouble()));
for (const k of [-1074, -1022, -1017, -1000, -600, -30, -20, 60, 64, 70, 80, 100, 200, 500, 1000, 1023]) {
  literals.push(JSON.stringify(2 ** k)); // powers of two: the lower neighbour is nearer
}

const strings = [
  ['3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'sk_live_8f2b1c9d0e7a4b6c', 'ORDER-1001', 'VA-BNI'],
  ['klien-Ünïcödé', 'rahasia-ñ-🔑', 'Pembayaran pesanan #12 — terima kasih', 'QRIS'],
  ['id:with:colons', 'secret:too', 'REF:1', 'GOPAY'],
  ['merchant-001', 'secret-001', '', 'SHOPEEPAY'],
  ['merchant-001', '', 'TX_🚀_001', ''],
  ['CLIENT123', 'S3cr3t!', 'café\u0301 日本語 \\ "quoted"', 'DANA'],
  ['9B1DEB4D-3B7D-4BAD-9BDD-2B0D7B3DCB6D', 'p@ss w0rd/+=?&%', 'x'.repeat(64), 'VA-MANDIRI'],
];
const times = ['2024-09-20T20:32:36+07:00', '2026-11-24T10:00:00+07:00', '2026-11-24T03:00:00+00:00', '2026-11-24T03:00:00Z'];

literals.forEach((literal, i) => {
  const [id, secret, ref, code] = strings[i % strings.length];
  const timestamp = times[i % times.length];
  const amount = JSON.parse(literal); // what BJPAY's JavaScript has in hand
  const signature = sign(id, secret, timestamp, ref, code, amount);
  const head = JSON.stringify({ client_id: id, client_secret: secret, timestamp, referenceNumber: ref, paymentCode: code });
  process.stdout.write(`${head.slice(0, -1)},"amount":${literal},"signature":"${signature}"}\n`);
});

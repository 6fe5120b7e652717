// Drives bjpay-signature.js for signer/verifiers/run: vectors | fixtures NOW ID SECRET.
'use strict';
const fs = require('node:fs');
const { verifyNotify, validSignature, InvalidNotify } = require('./bjpay-signature');

const args = process.argv.slice(2);
const input = fs.readFileSync(0, 'utf8');
let passed = 0;
let failed = 0;
const fail = (what, why) => {
  failed++;
  console.log(`FAIL ${what}: ${why}`);
};

if (args.length === 1 && args[0] === 'vectors') {
  input.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v;
    try {
      v = JSON.parse(line);
    } catch (e) {
      return fail(`line ${i + 1}`, `not a signature vector: ${e.message}`);
    }
    if (validSignature(v.client_id, v.client_secret, v.timestamp, v.referenceNumber, v.paymentCode, v.amount, v.signature)) passed++;
    else fail(`line ${i + 1}`, `signature does not match for amount ${v.amount}`);
  });
} else if (args.length === 4 && args[0] === 'fixtures') {
  const now = Date.parse(args[1]);
  let fixtures;
  try {
    fixtures = JSON.parse(input);
  } catch (e) {
    console.error(`stdin is not the JSON array \`bjpay-sandbox fixture\` writes: ${e.message}`);
    process.exit(2);
  }
  for (const f of fixtures) {
    let verdict = 'accept';
    let why = 'accepted';
    try {
      verifyNotify({ headers: f.headers, rawBody: f.body, clientId: args[2], clientSecret: args[3], now });
    } catch (e) {
      if (!(e instanceof InvalidNotify)) throw e;
      verdict = 'reject';
      why = `rejected (${e.message})`;
    }
    if (verdict === f.expect) passed++;
    else fail(f.name, `${why}; expected ${f.expect}`);
  }
} else {
  console.error('usage: run.js vectors < vectors.jsonl | run.js fixtures NOW CLIENT_ID CLIENT_SECRET < fixtures.json');
  process.exit(2);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;

// A node:http shop taking BJPAY payments: the way many Node teams write it.
//
//     PORT=3000 BJPAY_BASE_URL=http://127.0.0.1:18080 node server.js
//
// POST /checkout {"amount": 58000, "paymentCode": "VA-BNI"} creates a
// payment, POST /webhook/bjpay receives BJPAY's notifies, GET /orders/:ref
// shows an order ("credited" counts the credits it got). MISTAKE=<name>
// switches on one realistic mistake (see MISTAKES) for the conformance
// suite to catch.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const { setTimeout: sleep } = require('node:timers/promises');

const {
  PORT = '3000',
  BJPAY_BASE_URL = 'http://127.0.0.1:18080',
  BJPAY_CLIENT_ID = '2f9d6a0e-1c3b-4d5e-8f70-123456789abc',
  BJPAY_CLIENT_SECRET = 'merchant-secret',
  MISTAKE = '',
} = process.env;

const MISTAKES = {
  'key-without-colon': 'derives the key as md5(clientId + clientSecret), without the colon',
  'unverified-unknown': 'acknowledges a notify for an unknown order before verifying it',
  'double-credit-race': 'checks "not paid yet", awaits the ledger, then credits: two notifies at once both credit',
  'unknown-404': 'answers 404 to a notify for an order it does not know',
};
if (MISTAKE && !(MISTAKE in MISTAKES)) {
  console.error(`MISTAKE=${MISTAKE}; expected one of ${Object.keys(MISTAKES).join(', ')}`);
  process.exit(2);
}

const REPLAY_WINDOW_MS = 5 * 60 * 1000;
const key = crypto.createHash('md5')
  .update(MISTAKE === 'key-without-colon' ? BJPAY_CLIENT_ID + BJPAY_CLIENT_SECRET : `${BJPAY_CLIENT_ID}:${BJPAY_CLIENT_SECRET}`)
  .digest('hex');
const orders = new Map();

// What is wrong with the notify's signature or time, or null.
function verify(headers, n) {
  const stamp = headers['x-request-time'] ?? '';
  const signature = headers['x-signature'] ?? '';
  if (!(Math.abs(Date.now() - Date.parse(stamp)) <= REPLAY_WINDOW_MS)) {
    return `X-Request-Time '${stamp}' is not within 5 minutes of our clock`;
  }
  const want = crypto.createHmac('sha256', key)
    .update(`${stamp}:${n.referenceNumber}:${n.paymentCode}:${n.totalAmount}`)
    .digest('hex');
  const ok = signature.length === want.length && crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(want));
  return ok ? null : 'X-Signature does not verify';
}

// The ledger is another service: crediting takes a round trip.
async function credit(order) {
  await sleep(300);
  order.credited += 1;
}

async function notify(req, res) {
  let n;
  try {
    n = JSON.parse(await text(req));
  } catch {
    return send(res, 400, { error: 'body is not JSON' });
  }
  const order = orders.get(n.referenceNumber);
  if (!order && MISTAKE === 'unverified-unknown') {
    return send(res, 200, { result: 'unknown order, ignored' }); // "nothing to protect"
  }
  const problem = verify(req.headers, n);
  if (problem) {
    console.warn(`notify refused: ${problem}`);
    return send(res, 401, { error: problem });
  }
  if (!order) {
    return MISTAKE === 'unknown-404'
      ? send(res, 404, { error: 'no such order' })
      : send(res, 200, { result: 'unknown order, ignored' });
  }
  if (n.totalAmount !== order.amount) {
    return send(res, 400, { error: `totalAmount ${n.totalAmount} is not the order's ${order.amount}` });
  }
  if (n.status === 'PAID' && order.status !== 'PAID') {
    if (MISTAKE === 'double-credit-race') {
      await credit(order);
    } else {
      order.status = 'PAID'; // claim it before awaiting, so a duplicate sees it
      await credit(order);
    }
    order.status = 'PAID';
  } else if (order.status === 'PENDING' && n.status !== 'PAID') {
    order.status = n.status;
  }
  send(res, 200, { result: 'ok', status: order.status });
}

async function checkout(req, res) {
  let amount, paymentCode;
  try {
    ({ amount, paymentCode } = JSON.parse(await text(req)));
  } catch {}
  if (!Number.isInteger(amount) || amount <= 0 || !paymentCode) {
    return send(res, 400, { error: 'expected {"amount": 58000, "paymentCode": "VA-BNI"}' });
  }
  const ref = `ORDER-${crypto.randomBytes(6).toString('hex')}`;
  const me = `http://${req.headers.host}`;
  let answer;
  try {
    const r = await fetch(`${BJPAY_BASE_URL}/api/merchant/transaction/create`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
      headers: {
        'Content-Type': 'application/json',
        'X-Client-Id': BJPAY_CLIENT_ID,
        'X-Client-Secret': BJPAY_CLIENT_SECRET,
        'X-Request-Time': new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      body: JSON.stringify({
        paymentCode, referenceNumber: ref, customerName: 'Budi Santoso',
        customerEmail: 'budi@example.com', customerPhoneNumber: '6281234567890',
        finishNotifyUrl: `${me}/webhook/bjpay`, finishReturnUrl: `${me}/orders/${ref}`,
        totalAmount: amount, items: [{ name: `Order ${ref}`, quantity: 1, amount }],
      }),
    });
    answer = await r.json();
    if (!r.ok || answer.code !== 'OK') throw new Error(`HTTP ${r.status} ${JSON.stringify(answer)}`);
  } catch (e) {
    return send(res, 502, { error: `BJPAY refused the payment: ${e.message}` });
  }
  orders.set(ref, { referenceNumber: ref, amount, status: 'PENDING', credited: 0 });
  send(res, 201, { referenceNumber: ref, status: 'PENDING', paymentDest: answer.data.paymentDest });
}

function text(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve(body)).on('error', reject);
  });
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://shop');
  const order = pathname.match(/^\/orders\/([\w.-]+)$/);
  let handled;
  if (req.method === 'POST' && pathname === '/checkout') handled = checkout(req, res);
  else if (req.method === 'POST' && pathname === '/webhook/bjpay') handled = notify(req, res);
  else if (req.method === 'GET' && order) {
    const o = orders.get(order[1]);
    return o ? send(res, 200, o) : send(res, 404, { error: 'no such order' });
  } else return send(res, 404, { error: `no route for ${req.method} ${pathname}` });
  handled.catch((e) => {
    console.error(e);
    send(res, 500, { error: 'internal error' });
  });
}).listen(Number(PORT), '127.0.0.1', () => console.log(`shop listening on 127.0.0.1:${PORT}`));

// Verify BJPAY's X-Signature on a notify, from the raw headers and raw body.
//
//   const express = require('express');
//   const { bjpayNotify } = require('./bjpay-signature');
//   app.post('/webhook/bjpay', express.raw({ type: 'application/json' }),
//     bjpayNotify({ clientId: process.env.BJPAY_CLIENT_ID, clientSecret: process.env.BJPAY_CLIENT_SECRET }),
//     (req, res) => { /* req.bjpayNotify is the verified body: mark the order paid, idempotently */ res.sendStatus(200); });
'use strict';
const crypto = require('node:crypto');

const REPLAY_WINDOW_MS = 5 * 60 * 1000; // either way; BJPAY documents none
const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

class InvalidNotify extends Error {}

// validSignature reports whether signature is BJPAY's for these values. The
// amount is written by the template string as String(amount) does: this is
// BJPAY's own recipe, and the one place other languages must imitate.
function validSignature(clientId, clientSecret, timestamp, referenceNumber, paymentCode, amount, signature) {
  const key = crypto.createHash('md5').update(`${clientId}:${clientSecret}`).digest('hex');
  const want = crypto.createHmac('sha256', key).update(`${timestamp}:${referenceNumber}:${paymentCode}:${amount}`).digest();
  return /^[0-9a-f]{64}$/.test(signature) && crypto.timingSafeEqual(Buffer.from(signature, 'hex'), want);
}

// verifyNotify returns the parsed body of a valid notify and throws
// InvalidNotify, whose message says why, otherwise. headers may have names
// in any case (Node lower-cases them); rawBody is a Buffer or a string.
function verifyNotify({ headers, rawBody, clientId, clientSecret, now = Date.now(), windowMs = REPLAY_WINDOW_MS }) {
  const header = (name) => Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  const signature = header('x-signature');
  const timestamp = header('x-request-time');
  if (!signature) throw new InvalidNotify('the X-Signature header is missing');
  if (!timestamp) throw new InvalidNotify('the X-Request-Time header is missing');
  let body;
  try {
    body = JSON.parse(rawBody);
  } catch (e) {
    throw new InvalidNotify(`the body is not JSON: ${e.message}`);
  }
  const { referenceNumber, paymentCode, totalAmount } = body ?? {};
  if (typeof referenceNumber !== 'string' || typeof paymentCode !== 'string' || !Number.isFinite(totalAmount)) {
    throw new InvalidNotify('the body needs referenceNumber and paymentCode strings and a totalAmount number');
  }
  if (!validSignature(clientId, clientSecret, timestamp, referenceNumber, paymentCode, totalAmount, signature)) {
    throw new InvalidNotify(`X-Signature does not match the payload ${JSON.stringify(`${timestamp}:${referenceNumber}:${paymentCode}:${totalAmount}`)}`);
  }
  const sent = ISO_8601.test(timestamp) ? Date.parse(timestamp) : NaN;
  if (Number.isNaN(sent)) {
    throw new InvalidNotify(`X-Request-Time ${timestamp} is not an ISO 8601 time such as 2024-09-20T20:32:36+07:00`);
  }
  if (Math.abs(now - sent) > windowMs) {
    throw new InvalidNotify(`X-Request-Time ${timestamp} is ${Math.round((now - sent) / 1000)} s from now, outside ±${windowMs / 1000} s: a replay or a wrong clock`);
  }
  return body;
}

// bjpayNotify is Express middleware: 401 with the reason for a notify that
// fails verification, else next() with req.bjpayNotify set. It needs the raw
// body: express.raw() before it, or nothing that consumed the stream.
function bjpayNotify({ clientId, clientSecret, windowMs }) {
  return async (req, res, next) => {
    try {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.concat(await req.toArray());
      req.bjpayNotify = verifyNotify({ headers: req.headers, rawBody, clientId, clientSecret, windowMs });
    } catch (e) {
      if (!(e instanceof InvalidNotify)) return next(e);
      res.statusCode = 401;
      return res.end(e.message);
    }
    next();
  };
}

module.exports = { verifyNotify, validSignature, bjpayNotify, InvalidNotify, REPLAY_WINDOW_MS };

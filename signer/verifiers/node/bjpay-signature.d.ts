import type { IncomingMessage, ServerResponse } from 'node:http';

/** A notify that is not BJPAY's, or not fresh; the message says why. */
export class InvalidNotify extends Error {}

/** Five minutes, either way: how far X-Request-Time may be from now. */
export const REPLAY_WINDOW_MS: number;

/** The fields BJPAY signs; the rest of the body is passed through. */
export interface BjpayNotify {
  referenceNumber: string;
  paymentCode: string;
  totalAmount: number;
  status?: 'PAID' | 'EXPIRED' | 'FAILED' | string;
  [field: string]: unknown;
}

export interface VerifyOptions {
  /** Header names in any case, e.g. req.headers. */
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received. */
  rawBody: Buffer | string;
  clientId: string;
  clientSecret: string;
  /** Milliseconds since the epoch; default Date.now(). */
  now?: number;
  windowMs?: number;
}

/** The parsed body of a valid notify; throws InvalidNotify otherwise. */
export function verifyNotify(options: VerifyOptions): BjpayNotify;

/** Whether signature is BJPAY's for these values, compared in constant time. */
export function validSignature(
  clientId: string, clientSecret: string, timestamp: string,
  referenceNumber: string, paymentCode: string, amount: number, signature: string,
): boolean;

/** Express middleware: 401 with the reason, or next() with req.bjpayNotify set. */
export function bjpayNotify(options: { clientId: string; clientSecret: string; windowMs?: number }):
  (req: IncomingMessage & { body?: unknown; bjpayNotify?: BjpayNotify }, res: ServerResponse, next: (err?: unknown) => void) => Promise<void>;

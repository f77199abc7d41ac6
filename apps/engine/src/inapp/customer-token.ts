import { createHmac, timingSafeEqual } from 'node:crypto';

/** Longest customer id the in-app endpoints accept (as ingestion's userId). */
export const MAX_CUSTOMER_ID = 256;

/**
 * The customer token the company's backend gives its own client (browser, mobile app): HMAC-SHA256 of the customer id
 * (UTF-8) keyed with the workspace's identity secret, in lowercase hex — identity verification as in-app messengers
 * do it. The client never holds a server key.
 */
export function customerToken(secret: string, customerId: string): string {
  return createHmac('sha256', secret).update(customerId, 'utf8').digest('hex');
}

/** Whether `token` is the customer's token, compared in constant time (hex, either case). */
export function verifyCustomerToken(secret: string, customerId: string, token: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(token)) return false;
  return timingSafeEqual(Buffer.from(customerToken(secret, customerId), 'hex'), Buffer.from(token, 'hex'));
}

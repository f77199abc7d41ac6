import { customerToken, verifyCustomerToken } from './customer-token';

describe('customer tokens', () => {
  const secret = 'identity-secret';

  it('is HMAC-SHA256 of the customer id in hex, as `openssl dgst -sha256 -hmac` computes it', () => {
    // echo -n 'user-1' | openssl dgst -sha256 -hmac 'identity-secret'
    expect(customerToken(secret, 'user-1')).toBe('ee42f1bb953d0ddec14a204cb151cea6053ae945e8c8575247c262dd4359b072');
  });

  it("accepts the customer's token in either case, and nothing else", () => {
    const token = customerToken(secret, 'user-1');
    expect(verifyCustomerToken(secret, 'user-1', token)).toBe(true);
    expect(verifyCustomerToken(secret, 'user-1', token.toUpperCase())).toBe(true);
    expect(verifyCustomerToken(secret, 'user-2', token)).toBe(false); // another customer's token
    expect(verifyCustomerToken('other-secret', 'user-1', token)).toBe(false); // another workspace's secret
    expect(verifyCustomerToken(secret, 'user-1', token.slice(0, 63))).toBe(false);
    expect(verifyCustomerToken(secret, 'user-1', `${token.slice(0, 63)}g`)).toBe(false);
    expect(verifyCustomerToken(secret, 'user-1', '')).toBe(false);
  });
});

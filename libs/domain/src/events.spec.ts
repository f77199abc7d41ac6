import { customerStreamId, escapeWorkspaceId, triggerStreamId } from './events';

describe('composite ids', () => {
  it('keeps workspaces whose ids contain the separator apart from their neighbours', () => {
    // acme's customer "eu-bob" and acme-eu's customer "bob" read the same when the workspace is not escaped
    expect(customerStreamId('acme', 'eu-bob')).not.toBe(customerStreamId('acme-eu', 'bob'));
    expect(triggerStreamId('acme', 'eu-welcome')).not.toBe(triggerStreamId('acme-eu', 'welcome'));
    // a workspace's prefix takes in none of another workspace's streams
    const prefix = customerStreamId('acme', '');
    expect(customerStreamId('acme-eu', 'bob').startsWith(prefix)).toBe(false);
    expect(customerStreamId('acme%2Deu', 'bob').startsWith(prefix)).toBe(false);
    expect(customerStreamId('acme', 'eu-bob').startsWith(prefix)).toBe(true);
  });

  it('escapes only %, - and : so ids without them keep their stream names', () => {
    expect(customerStreamId('default', 'user-1')).toBe('customer-default-user-1');
    expect(escapeWorkspaceId('acme-eu:x%')).toBe('acme%2Deu%3Ax%25');
    // escaping is injective: an id that already looks escaped stays distinct from the one it looks like
    expect(escapeWorkspaceId('acme%2Deu')).not.toBe(escapeWorkspaceId('acme-eu'));
  });
});

import { enabledProgram, History, simulateCustomer } from '@journey/domain';

it('welcomes a customer who signs up, once', () => {
  const welcome = enabledProgram({
    id: 'welcome',
    name: 'Welcome',
    entry: { event: 'Signed Up' },
    steps: [{ send: { channel: 'email', subject: 'Welcome', body: 'Hi {{ traits.name }}' } }],
  });
  const history = new History('ada');
  history.identify('2025-03-01T09:00:00Z', { name: 'Ada', email: 'ada@example.com' });
  history.track('2025-03-01T10:00:00Z', 'Signed Up');
  history.track('2025-03-02T10:00:00Z', 'Signed Up');
  const { decided } = simulateCustomer([welcome], history.events, new Date('2025-03-05T00:00:00Z'));
  expect(decided.filter((e) => e.type === 'MessageScheduled').map((e) => e.data.triggerId)).toEqual(['welcome']);
});

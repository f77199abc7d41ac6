import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import type { WorkItem } from './logic';
import { QueueTable } from './queue';

const base: WorkItem = {
  kind: 'conversation',
  itemId: 'c1',
  customerId: 'bob',
  title: '',
  status: 'open',
  priority: 'high',
  assignee: null,
  team: 'support',
  dueAt: null,
  updatedAt: '2026-01-01T09:00:00.000Z',
  channel: 'inbox',
  preview: 'The export fails',
  lastFrom: 'customer',
  lastMessageId: 'm1',
  waitingOn: 'agent',
  slaBreached: false,
  breaches: [],
  version: 1,
};

describe('QueueTable', () => {
  const now = Date.parse('2026-01-01T10:00:00.000Z');

  it('highlights a breached item in danger style, counts the others down, and links each to its page', () => {
    render(
      <MemoryRouter>
        <QueueTable
          now={now}
          items={[
            { ...base, itemId: 'late', dueAt: '2026-01-01T09:55:00.000Z' },
            { ...base, itemId: 'soon', customerId: 'cara', dueAt: '2026-01-01T10:10:00.000Z' },
            { ...base, kind: 'task', itemId: 't1', title: 'Call Bob', assignee: 'ann', dueAt: null },
          ]}
        />
      </MemoryRouter>,
    );
    const rows = screen.getAllByRole('row').slice(1);
    expect(rows).toHaveLength(3);
    expect(rows[0].className).toBe('breached');
    const breach = within(rows[0]).getByText('breached 5 min ago');
    expect(breach.closest('.sla')?.className).toContain('danger');
    expect(within(rows[0]).getByRole('link', { name: 'Conversation with bob' }).getAttribute('href')).toBe(
      '/work/customers/bob/conversations/late',
    );
    expect(rows[1].className).toBe('');
    expect(within(rows[1]).getByText('due in 10 min 00 s').closest('.sla')?.className).toContain('warn');
    expect(within(rows[2]).getByRole('link', { name: 'Call Bob' }).getAttribute('href')).toBe('/work/customers/bob/tasks/t1');
    expect(within(rows[2]).getByText('nothing due')).toBeTruthy();
    expect(within(rows[2]).getByText('ann')).toBeTruthy();
  });

  it('says when there is nothing to do', () => {
    render(
      <MemoryRouter>
        <QueueTable now={now} items={[]} />
      </MemoryRouter>,
    );
    expect(screen.getByText('Nothing to do here.')).toBeTruthy();
  });

  it('renders only the rows in view of a long queue, in a scrolling region reachable from the keyboard', () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ ...base, itemId: `c${i}`, customerId: `customer-${i}` }));
    render(
      <MemoryRouter>
        <QueueTable now={now} items={items} />
      </MemoryRouter>,
    );
    const region = screen.getByRole('region', { name: 'Queue of 300 items (scrolls)' });
    expect(region.tabIndex).toBe(0);
    const rendered = region.querySelectorAll('tr[data-item]').length;
    expect(rendered).toBeLessThan(50);
  });
});

import { fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { Tabs } from './tabs';

const TABS = [
  { id: 'a', label: 'Alpha' },
  { id: 'b', label: 'Beta' },
  { id: 'c', label: 'Gamma' },
];

function Harness() {
  const [tab, setTab] = useState('a');
  return (
    <Tabs label="Things" tabs={TABS} selected={tab} onSelect={setTab}>
      <p>panel {tab}</p>
    </Tabs>
  );
}

describe('tabs', () => {
  it('moves with the arrow keys, Home and End, wrapping, with one tab in the tab order and a labelled panel', () => {
    render(<Harness />);
    const tab = (name: string) => screen.getByRole('tab', { name });
    expect(screen.getByRole('tablist', { name: 'Things' })).toBeTruthy();
    expect(tab('Alpha').getAttribute('aria-selected')).toBe('true');
    expect(TABS.map((t) => tab(t.label).tabIndex)).toEqual([0, -1, -1]);
    fireEvent.keyDown(tab('Alpha'), { key: 'ArrowRight' });
    expect(tab('Beta').getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(tab('Beta'));
    expect(screen.getByRole('tabpanel', { name: 'Beta' }).textContent).toBe('panel b');
    fireEvent.keyDown(tab('Beta'), { key: 'End' });
    expect(tab('Gamma').getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(tab('Gamma'), { key: 'ArrowRight' });
    expect(tab('Alpha').getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(tab('Alpha'), { key: 'ArrowLeft' });
    expect(tab('Gamma').getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(tab('Gamma'), { key: 'Home' });
    expect(tab('Alpha').getAttribute('aria-selected')).toBe('true');
    expect(TABS.map((t) => tab(t.label).tabIndex)).toEqual([0, -1, -1]);
    fireEvent.click(tab('Gamma'));
    expect(screen.getByRole('tabpanel').textContent).toBe('panel c');
  });
});

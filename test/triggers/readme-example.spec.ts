import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('README "Testing your triggers"', () => {
  it('shows the example test exactly as it runs (testing-your-triggers.example.spec.ts)', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const example = readFileSync(join(__dirname, 'testing-your-triggers.example.spec.ts'), 'utf8');
    const section = readme.slice(readme.indexOf('## Testing your triggers'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBe(example);
  });
});

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run } from './probe';

/**
 * The probes' Python tools (schemathesis, matplotlib) in a venv under .ci/cache (gitignored), installed from PyPI by pip
 * from test/probes/requirements.txt the first time and again when that file changes. Returns the venv's bin directory.
 */
export async function probeVenv(): Promise<string> {
  const venv = join(ROOT, '.ci', 'cache', 'probes-venv');
  const bin = join(venv, 'bin');
  const requirements = join(ROOT, 'test', 'probes', 'requirements.txt');
  const stamp = join(venv, 'requirements.sha1');
  const wanted = createHash('sha1').update(readFileSync(requirements)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return bin;
  const python = process.env.PYTHON ?? 'python3';
  console.log(`probes: installing ${requirements} into ${venv}`);
  if (!existsSync(join(bin, 'python')) && (await run(python, ['-m', 'venv', venv])) !== 0)
    throw new Error(`${python} -m venv ${venv} failed`);
  if ((await run(join(bin, 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements])) !== 0)
    throw new Error('pip install failed');
  writeFileSync(stamp, wanted);
  return bin;
}

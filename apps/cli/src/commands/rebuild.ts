import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SQLITE_FILES, SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { PROJECTIONS, SqliteReadModelStore, rebuildProjection, type RebuildReport } from '@journey/read-models';

/**
 * Rebuilds a projection (or all of them) in the embedded SQLite file of a data directory. Safe next to a running engine
 * on the same file: the swap waits until the live model and the rebuilt one are at the same position.
 */
export async function rebuild(dataDir: string, name: string): Promise<RebuildReport[]> {
  const selected = name === 'all' ? PROJECTIONS : PROJECTIONS.filter((p) => p.name === name);
  if (selected.length === 0) throw new Error(`unknown projection "${name}" (known: ${PROJECTIONS.map((p) => p.name).join(', ')}, or all)`);
  const db = openSqliteDatabase(join(dataDir, SQLITE_FILES.events));
  const readModels = openSqliteDatabase(join(dataDir, SQLITE_FILES.readModels), { synchronous: 'NORMAL' });
  const events = new SqliteEventStore(db);
  const store = new SqliteReadModelStore(readModels);
  try {
    const reports: RebuildReport[] = [];
    for (const p of selected) reports.push(await rebuildProjection(events, store, p));
    return reports;
  } finally {
    await events.close();
    db.close();
    readModels.close();
  }
}

export function registerRebuildCommand(program: Command): void {
  program
    .command('rebuild')
    .description(`rebuild a read model from the event log and swap it in (${PROJECTIONS.map((p) => p.name).join(', ')}, or all)`)
    .argument('<projection>', 'projection name, or "all"')
    .option('-d, --data-dir <dir>', 'the engine data directory (default: JOURNEY_DATA_DIR or ./data)')
    .action(async (name: string, options: { dataDir?: string }) => {
      const dataDir = resolve(options.dataDir ?? process.env.JOURNEY_DATA_DIR ?? './data');
      for (const r of await rebuild(dataDir, name)) {
        const docs = Object.entries(r.documents)
          .map(([c, n]) => `${n} ${c}`)
          .join(', ');
        const diffs = Object.values(r.differences).reduce((a, b) => a + b, 0);
        console.log(
          `${r.projection}: rebuilt to position ${r.position} in ${r.durationMs} ms (${docs}); ${r.identical ? 'identical to the live model' : `${diffs} document(s) differed from the live model and were replaced`}`,
        );
      }
    });
}

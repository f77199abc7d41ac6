#!/usr/bin/env node
import { Command } from 'commander';
import { registerRebuildCommand } from './commands/rebuild';
import { registerTriggersCommand } from './commands/triggers';

/** `journey`: the engine's command line. Each command registers itself from commands/. */
export function buildProgram(): Command {
  const program = new Command('journey').description('Journey Engine command line');
  registerRebuildCommand(program);
  registerTriggersCommand(program);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: Error) => {
      console.error(`journey: ${error.message}`);
      process.exit(1);
    });
}

import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RebuildReport } from '@journey/read-models';
import { ProjectionsService } from './projections.service';

export type RebuildOutcome = Omit<RebuildReport, 'position'> & { position: string };

/** POST /v1/admin/projections/:name/rebuild: rebuild from zero, compare with the live model, swap it in. */
export class RebuildProjectionCommand extends Command<RebuildOutcome> {
  constructor(readonly name: string) {
    super();
  }
}

@CommandHandler(RebuildProjectionCommand)
export class RebuildProjectionHandler implements ICommandHandler<RebuildProjectionCommand> {
  constructor(private readonly projections: ProjectionsService) {}

  async execute({ name }: RebuildProjectionCommand): Promise<RebuildOutcome> {
    const report = await this.projections.rebuild(name);
    return { ...report, position: report.position.toString() };
  }
}

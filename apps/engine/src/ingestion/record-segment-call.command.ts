import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseSegmentCall, type SegmentCallType } from '@journey/integration';
import { IngestionService, summarise } from './ingestion.service';

/** POST /v1/identify, track, page, screen, group, alias: one Segment call, the type given by the path. */
export class RecordSegmentCallCommand extends Command<{ success: true }> {
  constructor(
    readonly workspaceId: string,
    readonly type: SegmentCallType,
    readonly body: unknown,
  ) {
    super();
  }
}

@CommandHandler(RecordSegmentCallCommand)
export class RecordSegmentCallHandler implements ICommandHandler<RecordSegmentCallCommand> {
  constructor(private readonly ingestion: IngestionService) {}

  async execute({ workspaceId, type, body }: RecordSegmentCallCommand): Promise<{ success: true }> {
    const result = parseSegmentCall(body, this.ingestion.context(workspaceId), { type });
    if (!result.ok) throw this.ingestion.reject(summarise(result.errors.map((e) => e.message)), { errors: result.errors });
    await this.ingestion.submit(workspaceId, result.events, (refused) => {
      if (refused.size === 0) return 'accepted';
      const messages = [...refused.values()];
      throw this.ingestion.reject(summarise(messages), { errors: messages.map((message) => ({ path: 'previousId', message })) });
    });
    return { success: true };
  }
}

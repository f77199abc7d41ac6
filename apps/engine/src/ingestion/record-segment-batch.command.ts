import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseSegmentBatch, type FieldError } from '@journey/integration';
import { IngestionService, summarise } from './ingestion.service';

export interface BatchOutcome {
  success: true;
  accepted: number;
  rejected: Array<{ index: number; errors: FieldError[] }>;
}

/** POST /v1/batch: the valid calls are stored, the invalid ones reported by index (400 when none is valid). */
export class RecordSegmentBatchCommand extends Command<BatchOutcome> {
  constructor(
    readonly workspaceId: string,
    readonly body: unknown,
  ) {
    super();
  }
}

@CommandHandler(RecordSegmentBatchCommand)
export class RecordSegmentBatchHandler implements ICommandHandler<RecordSegmentBatchCommand> {
  constructor(private readonly ingestion: IngestionService) {}

  async execute({ workspaceId, body }: RecordSegmentBatchCommand): Promise<BatchOutcome> {
    const result = parseSegmentBatch(body, this.ingestion.context(workspaceId));
    if (!result.ok) throw this.ingestion.reject(result.errors.map((e) => e.message).join('; '), { errors: result.errors });
    if (result.accepted === 0) {
      const listed = result.rejected.flatMap(({ index, errors }) => errors.map((e) => `batch[${index}]: ${e.message}`));
      throw this.ingestion.reject(`no valid call in the batch: ${summarise(listed)}`, { rejected: result.rejected });
    }
    await this.ingestion.accept(workspaceId, result.events, result.rejected.length > 0 ? 'partial' : 'accepted');
    return { success: true, accepted: result.accepted, rejected: result.rejected };
  }
}

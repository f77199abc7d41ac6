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
    const none = (rejected: BatchOutcome['rejected']) => {
      const listed = rejected.flatMap(({ index, errors }) => errors.map((e) => `batch[${index}]: ${e.message}`));
      return this.ingestion.reject(`no valid call in the batch: ${summarise(listed)}`, { rejected });
    };
    if (result.accepted === 0) throw none(result.rejected);
    // the calls the events are of (one event per valid call, in order), for merges refused by identity (#12)
    const invalid = new Set(result.rejected.map((r) => r.index));
    const calls = [...Array(result.accepted + result.rejected.length).keys()].filter((i) => !invalid.has(i));
    let { accepted, rejected } = result;
    await this.ingestion.submit(workspaceId, result.events, (refused) => {
      const refusals = [...refused].map(([i, message]) => ({ index: calls[i], errors: [{ path: 'previousId', message }] }));
      rejected = [...result.rejected, ...refusals].sort((a, b) => a.index - b.index);
      accepted = result.accepted - refusals.length;
      if (accepted === 0) throw none(rejected);
      return rejected.length > 0 ? 'partial' : 'accepted';
    });
    return { success: true, accepted, rejected };
  }
}

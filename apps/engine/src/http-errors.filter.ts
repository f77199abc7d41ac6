import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { isDiskFull } from '@journey/event-store';

interface Response {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

/** How long a client is told to wait (Retry-After, seconds) when the disk is full. */
export const DISK_FULL_RETRY_AFTER_S = 30;

/**
 * Bad input never gets a 5xx: body-parser's errors (malformed JSON, bad encoding) become 400s that say what is wrong,
 * an oversized body a 413; HttpExceptions keep their status; a full disk (SQLITE_FULL, ENOSPC) is a 503 with
 * Retry-After, since the write was not acknowledged and a later retry may succeed; anything else is a logged 500
 * without internals.
 */
@Catch()
export class HttpErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof HttpException) {
      const body = error.getResponse();
      response.status(error.getStatus()).json(typeof body === 'string' ? { statusCode: error.getStatus(), message: body } : body);
      return;
    }
    const e = error as { type?: string; status?: number; message?: string; limit?: number };
    if (e?.type === 'entity.parse.failed') {
      response.status(400).json({ statusCode: 400, error: 'Bad Request', message: `malformed JSON body: ${e.message}` });
    } else if (e?.type === 'entity.too.large') {
      response.status(413).json({
        statusCode: 413,
        error: 'Payload Too Large',
        message: `request body too large: the limit is ${Math.round((e.limit ?? 0) / 1024)} KB`,
      });
    } else if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      response.status(400).json({ statusCode: 400, error: 'Bad Request', message: e.message ?? 'bad request' });
    } else if (isDiskFull(error)) {
      this.logger.error(`storage full: ${(error as Error).message}`);
      response.setHeader('Retry-After', String(DISK_FULL_RETRY_AFTER_S));
      response.status(503).json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'the engine cannot write: its storage is full; retry later (a resent messageId is stored once)',
      });
    } else {
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      response.status(500).json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
    }
  }
}

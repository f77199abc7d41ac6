import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';

interface Response {
  status(code: number): { json(body: unknown): void };
}

/**
 * Bad input never gets a 5xx: body-parser's errors (malformed JSON, oversized body, bad encoding) become 400s that
 * say what is wrong; HttpExceptions keep their status; anything else is a logged 500 without internals.
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
      response.status(400).json({ statusCode: 400, error: 'Bad Request', message: `request body too large: the limit is ${Math.round((e.limit ?? 0) / 1024)} KB` });
    } else if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      response.status(400).json({ statusCode: 400, error: 'Bad Request', message: e.message ?? 'bad request' });
    } else {
      this.logger.error(error instanceof Error ? error.stack ?? error.message : String(error));
      response.status(500).json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
    }
  }
}

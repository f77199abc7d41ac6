import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

/** The messages of class-validator's errors, each as `path: what is wrong` (nested fields as `a.b`). */
function messages(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = `${prefix}${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`);
    return [...own, ...messages(e.children ?? [], `${path}.`)];
  });
}

/**
 * The body pipe of the conversation, task, team and member endpoints: the DTO's class-validator rules, unknown fields
 * refused, a 400 whose message names every field that is wrong (and `errors`, one per field).
 */
export const VALIDATED_BODY = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  exceptionFactory: (errors) => {
    const list = messages(errors);
    const all = list.length ? list : ['body: must be a JSON object'];
    return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: all.join('; '), errors: all });
  },
});

/** `If-Match: "3"` (or `3`, `W/"3"`): the version (or revision) the client last read; absent: no precondition. */
export function parseIfMatch(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(value);
  if (!m)
    throw new BadRequestException(
      `If-Match must be the ${what} the change is based on (its ETag), e.g. If-Match: "3"; got ${JSON.stringify(value)}`,
    );
  return Number(m[1]);
}

interface Response {
  setHeader(name: string, value: string): void;
}

/** `ETag: "<n>"`. */
export const setETag = (res: Response, n: number): void => res.setHeader('ETag', `"${n}"`);

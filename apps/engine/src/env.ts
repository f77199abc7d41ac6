import { z } from 'zod';

/*
 * Environment variables as a zod schema: one field per variable, each read by one of the builders below, whose error
 * names the variable and the value it got (`JOURNEY_X must be a positive integer, got "ten"`). `parseEnv` reports
 * every wrong variable at once.
 */

type Raw = string | undefined;
const nameOf = (ctx: z.RefinementCtx) => String(ctx.path[ctx.path.length - 1]);

/**
 * A variable read by `read`, which returns its value, or what is wrong with it: `error` follows the variable's name
 * (` must be …`), `message` is the whole message.
 */
export function variable<T>(read: (raw: Raw) => { value: T } | { error: string } | { message: string }) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      const result = read(raw);
      if ('value' in result) return result.value;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'message' in result ? result.message : `${nameOf(ctx)}${result.error}` });
      return z.NEVER;
    });
}

/** The value, or `fallback` when unset (an empty value is a value). */
export const text = (fallback: string) => variable((raw) => ({ value: raw ?? fallback }));

/** The value, or undefined when unset or empty. */
export const optionalText = () => variable((raw) => ({ value: raw || undefined }));

/** The value, or `fallback` when unset or empty. */
export const textOr = (fallback: string) => variable((raw) => ({ value: raw || fallback }));

/** A comma-separated list, items trimmed, empty items dropped; undefined when unset or empty. */
export const optionalList = () => variable((raw) => ({ value: raw ? splitList(raw) : undefined }));

/** A comma-separated list, items trimmed, empty items dropped (`fallback` when that leaves nothing). */
export const list = (fallback: string[] = []) =>
  variable<string[]>((raw) => {
    const items = splitList(raw ?? '');
    return { value: items.length > 0 ? items : fallback };
  });

export interface NumberRule {
  /** What a valid value is, for the error: `a positive integer`. */
  what: string;
  valid: (n: number) => boolean;
  /** Whether an empty value counts as unset (otherwise it is read as 0, as `Number('')` does). */
  emptyIsUnset?: boolean;
}

/** A number that `rule` accepts; `fallback` when unset. */
export const number = (rule: NumberRule, fallback: number) => variable((raw) => readNumber(rule, raw, fallback));

/** A number that `rule` accepts; undefined when unset. */
export const optionalNumber = (rule: NumberRule) => variable((raw) => readNumber<number | undefined>(rule, raw, undefined));

/** The value read by `read`, which throws an Error whose message names the variable itself. */
export const parsed = <T>(read: (raw: Raw) => T) =>
  variable<T>((raw) => {
    try {
      return { value: read(raw) };
    } catch (error) {
      return { message: (error as Error).message };
    }
  });

export const positiveInteger: NumberRule = { what: 'a positive integer', valid: (n) => Number.isInteger(n) && n >= 1 };

/** Parses `env` with `schema`; throws one Error listing every wrong variable (one per line). */
export function parseEnv<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new Error(result.error.issues.map((i) => i.message).join('\n'));
}

function readNumber<T extends number | undefined>(rule: NumberRule, raw: Raw, fallback: T): { value: number | T } | { error: string } {
  if (raw === undefined || (rule.emptyIsUnset && raw === '')) return { value: fallback };
  const n = Number(raw);
  return rule.valid(n) ? { value: n } : { error: ` must be ${rule.what}, got "${raw}"` };
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

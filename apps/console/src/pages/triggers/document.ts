import { parse, stringify } from 'yaml';

/** A trigger definition (the engine answers JSON) as the YAML a person edits. */
export function toYaml(definition: unknown): string {
  return stringify(definition, { lineWidth: 0 });
}

/** The document as typed, parsed, or undefined when it is not (yet) YAML. */
export function tryParse(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
}

/** The id a document names (to save it: POST creates it, the page moves to /triggers/<id>). */
export function documentId(text: string): string | undefined {
  const doc = tryParse(text);
  return doc && typeof doc === 'object' && typeof (doc as { id?: unknown }).id === 'string' ? (doc as { id: string }).id : undefined;
}

/** What a new trigger starts from. */
export const NEW_TRIGGER = `id: my-new-trigger
name: My new trigger
entry:
  event: Signed Up
steps:
  - wait: { duration: 1d }
  - send:
      channel: inbox
      body: "Welcome, {{ customer.traits.name | default: 'there' }}!"
`;

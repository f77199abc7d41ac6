import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { CLOUDEVENT_SCHEMA, INTEGRATION_EVENT_SCHEMAS, PREVIOUS_INTEGRATION_EVENT_SCHEMAS } from '../index';

/** For tests: validates an integration event against the published JSON Schema its `dataschema` names; [] when valid. */
export function schemaValidator(): (event: object) => string[] {
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
  ajv.addSchema(CLOUDEVENT_SCHEMA);
  for (const schema of [...Object.values(INTEGRATION_EVENT_SCHEMAS), ...PREVIOUS_INTEGRATION_EVENT_SCHEMAS]) ajv.addSchema(schema);
  return (event) => {
    const uri = (event as { dataschema?: unknown }).dataschema;
    const validate = typeof uri === 'string' ? ajv.getSchema(uri) : undefined;
    if (!validate) return [`no schema for dataschema ${String(uri)}`];
    return validate(event) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

import { ValidationTypes, getMetadataStorage, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';

/**
 * A fast yes/no check of a class-validator DTO, for the ingestion hot path. `validateSync` looks the class's metadata
 * up, groups and filters it and allocates an error object per property on every call: measured, that was most of the
 * cost of ingesting an event. This reads the same metadata once per class and runs the same constraint
 * implementations (the decorators stay the single source of truth); `validateSync` still produces the error messages
 * when the answer is no. Supports what the Segment DTOs use: conditions (`@IsOptional`, `@ValidateIf`), `@IsDefined`
 * and synchronous, non-`each` constraints; anything else is refused when the class is compiled.
 */
export type CompiledCheck = (object: object) => boolean;

interface PropertyCheck {
  property: string;
  conditions: Array<(object: object, value: unknown) => boolean>;
  constraints: Array<{ instance: ValidatorConstraintInterface; args: unknown[] }>;
}

const SUPPORTED = new Set<string>([ValidationTypes.CONDITIONAL_VALIDATION, ValidationTypes.CUSTOM_VALIDATION, ValidationTypes.IS_DEFINED]);

export function compileValidator(cls: new () => object): CompiledCheck {
  const storage = getMetadataStorage();
  const grouped = storage.groupByPropertyName(storage.getTargetValidationMetadatas(cls, '', false, false));
  const checks: PropertyCheck[] = Object.entries(grouped).map(([property, metadatas]) => ({
    property,
    conditions: metadatas.filter((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION).map((m) => m.constraints[0]),
    constraints: metadatas
      .filter((m) => {
        if (!SUPPORTED.has(m.type) || m.each) throw new Error(`compileValidator(${cls.name}.${property}): ${m.type}${m.each ? ' (each)' : ''} is not supported`);
        return m.type !== ValidationTypes.CONDITIONAL_VALIDATION;
      })
      .flatMap((m) =>
        storage.getTargetValidatorConstraints(m.constraintCls).map((c) => {
          if (c.async) throw new Error(`compileValidator(${cls.name}.${property}): async constraints are not supported`);
          return { instance: c.instance, args: m.constraints };
        }),
      ),
  }));
  const targetName = cls.name;
  return (object) => {
    for (const { property, conditions, constraints } of checks) {
      const value = (object as Record<string, unknown>)[property];
      if (!conditions.every((condition) => condition(object, value))) continue;
      for (const { instance, args } of constraints) {
        const validationArguments: ValidationArguments = { targetName, property, object, value, constraints: args };
        if (!instance.validate(value, validationArguments)) return false;
      }
    }
    return true;
  };
}

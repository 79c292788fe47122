import { z } from 'zod';
import type { AnyDefinition, Registry } from '../engine/registry.js';
import { scenarioSchema, scheduleSchema } from '../scenario/schema.js';
import { pcsimVersion } from '../version.js';

/** A JSON Schema (draft-07) node, as far as this module reads and writes one. */
export interface JsonSchema {
  [keyword: string]: unknown;
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
}

/** Draft-07: the version editors (the YAML language server among them) support best. */
const DIALECT = 'http://json-schema.org/draft-07/schema#';

function toJsonSchema(schema: z.ZodType): JsonSchema {
  // What a scenario may say (io: input), so keys with defaults are optional.
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as JsonSchema;
  return json;
}

/**
 * The scenario format as a JSON Schema, built from the same zod schemas that
 * validate scenarios: the top level, and under `protocols`, `controls` and
 * `observers` one alternative per registered type, told apart by `type`, with its
 * parameters (and the schedule keys, for controls and observers). Cross-checks
 * that need the whole scenario (a cache smaller than the network...) are left to
 * `pcsim validate`.
 */
export function scenarioJsonSchema(registry: Registry): JsonSchema {
  const top = toJsonSchema(scenarioSchema);
  const schedule = toJsonSchema(scheduleSchema).properties ?? {};
  const sections: [string, Map<string, AnyDefinition>, Record<string, JsonSchema>][] = [
    ['protocols', registry.protocols, {}],
    ['controls', registry.controls, schedule],
    ['observers', registry.observers, schedule],
  ];
  for (const [section, table, extraKeys] of sections) {
    const property = top.properties?.[section];
    if (!property) throw new Error(`the scenario schema has no "${section}" key`);
    property.additionalProperties = { oneOf: [...table.values()].map((definition) => instanceBlock(definition, extraKeys)) };
  }
  return {
    $schema: DIALECT,
    title: 'pcsim scenario',
    description: `A pcsim scenario file (pcsim ${pcsimVersion}; regenerate with \`pcsim schema\`).`,
    ...top,
  };
}

/** One type's block: `type` (a constant), its parameters, and the extra keys its section allows. */
function instanceBlock(definition: AnyDefinition, extraKeys: Record<string, JsonSchema>): JsonSchema {
  const typeKey: JsonSchema = { const: definition.type, description: definition.description };
  const params = toJsonSchema(definition.params);
  if (params.type !== 'object' || !params.properties || params.definitions) {
    // Parameters that are not a plain mapping: name the type, leave its keys unchecked here.
    return { type: 'object', description: definition.description, properties: { type: typeKey }, required: ['type'] };
  }
  return {
    type: 'object',
    description: definition.description,
    properties: { type: typeKey, ...params.properties, ...extraKeys },
    required: ['type', ...(params.required ?? [])],
    additionalProperties: false,
  };
}

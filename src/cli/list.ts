import { z } from 'zod';
import { distributionSchema } from '../engine/distributions.js';
import type { Registry } from '../engine/registry.js';
import { latencySchema } from '../engine/transport.js';
import { scenarioSchema, scheduleSchema } from '../scenario/schema.js';
import type { JsonSchema } from './json-schema.js';

/**
 * `pcsim list`: everything a scenario can say, read from the same zod schemas that
 * validate it, so the list cannot drift from what is accepted.
 */
export function listText(registry: Registry): string {
  const lines: string[] = ['scenario keys:', ...describeParams(scenarioSchema, '  ')];
  lines.push('attribute distributions (attributes.NAME: {dist: ..., parameters}):', ...describeVariants(distributionSchema, 'dist', '  '));
  lines.push('latency models (transport.latency: {model: ..., parameters}; event engine):', ...describeVariants(latencySchema, 'model', '  '));
  const section = (title: string, table: Map<string, { type: string; description: string; params: z.ZodType }>) => {
    lines.push(`${title}:`);
    for (const d of table.values()) {
      lines.push(`  ${d.type} - ${d.description}`);
      lines.push(...describeParams(d.params, '    '));
    }
    if (table.size === 0) lines.push('  (none)');
  };
  section('protocols', registry.protocols);
  section('observers (each also takes the schedule keys below)', registry.observers);
  section('controls (each also takes the schedule keys below)', registry.controls);
  lines.push('schedule keys (observers and controls):', ...describeParams(scheduleSchema, '  '));
  return `${lines.join('\n')}\n`;
}

function toJson(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** "key: type (default ...) - description" for each parameter of a schema; nested keys dotted. */
function describeParams(schema: z.ZodType, indent: string): string[] {
  return describeProperties(toJson(schema), indent, '');
}

function describeProperties(object: JsonSchema, indent: string, prefix: string, skip?: string): string[] {
  const lines: string[] = [];
  for (const [key, p] of Object.entries(object.properties ?? {})) {
    if (key === skip) continue;
    if (p.properties && !p.additionalProperties) {
      lines.push(...describeProperties(p, indent, `${prefix}${key}.`));
      continue;
    }
    const fallback = p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : object.required?.includes(key) ? ' (required)' : '';
    lines.push(`${indent}${prefix}${key}: ${typeName(p)}${fallback}${p.description ? ` - ${p.description}` : ''}`);
  }
  return lines;
}

/** A discriminated union (distributions, latency models): each form's name, then its parameters. */
function describeVariants(schema: z.ZodType, discriminator: string, indent: string): string[] {
  const variants = (toJson(schema).oneOf ?? toJson(schema).anyOf ?? []) as JsonSchema[];
  return variants.flatMap((variant) => [
    `${indent}${String(variant.properties?.[discriminator]?.const)}`,
    ...describeProperties(variant, `${indent}  `, '', discriminator),
  ]);
}

/** A JSON Schema type in words: `integer`, `"a"|"b"`, `list of string`, `mapping`, `{model: constant|uniform}`. */
function typeName(p: JsonSchema): string {
  if (Array.isArray(p.enum)) return p.enum.map((v) => JSON.stringify(v)).join('|');
  if (p.const !== undefined) return JSON.stringify(p.const);
  const variants = (p.oneOf ?? p.anyOf) as JsonSchema[] | undefined;
  if (variants) {
    const tag = variants[0]?.properties && Object.keys(variants[0].properties).find((key) => variants.every((v) => v.properties?.[key]?.const !== undefined));
    if (tag) return `{${tag}: ${variants.map((v) => String(v.properties![tag].const)).join('|')}, ...}`;
    return variants.map(typeName).join('|');
  }
  if (Array.isArray(p.type)) return p.type.join('|');
  if (p.type === 'array') return `list of ${p.items ? typeName(p.items as JsonSchema) : 'values'}`;
  if (p.type === 'object') return 'mapping';
  return typeof p.type === 'string' ? p.type : 'value';
}

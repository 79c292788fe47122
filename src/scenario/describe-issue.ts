import type { z } from 'zod';
import { didYouMean } from '../engine/suggest.js';

/** A value as a scenario author would name it in an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
const typeNames: Readonly<Record<string, string>> = { object: 'mapping', record: 'mapping', array: 'list', int: 'integer' };
const typeName = (expected: string) => (Object.hasOwn(typeNames, expected) ? typeNames[expected] : expected);

/**
 * One zod issue as "expected X, found Y". `allowedKeys` lists the keys valid where a
 * key was unknown; a near miss among them (or among the allowed values) is suggested.
 */
export function describeIssue(issue: z.core.$ZodIssue, allowedKeys?: readonly string[]): string {
  const found = describeValue((issue as { input?: unknown }).input);
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${article(typeName(issue.expected))}, found ${found}`;
    case 'unrecognized_keys':
      return `unknown key${allowedKeys ? ` (expected one of: ${allowedKeys.join(', ')})${didYouMean(issue.keys[0], allowedKeys)}` : ''}`;
    case 'too_small':
      return `expected ${issue.origin === 'array' ? 'a list with at least' : 'a value'} ${issue.inclusive ? '>=' : '>'} ${issue.minimum}, found ${found}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' ? 'a list with at most' : 'a value'} ${issue.inclusive ? '<=' : '<'} ${issue.maximum}, found ${found}`;
    case 'invalid_value': {
      const input = (issue as { input?: unknown }).input;
      const hint = typeof input === 'string' ? didYouMean(input, issue.values.map(String)) : '';
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, found ${found}${hint}`;
    }
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options) {
        const input = (issue.input as Record<string, unknown> | undefined)?.[String(issue.path.at(-1))];
        const hint = typeof input === 'string' ? didYouMean(input, options.map(String)) : '';
        return `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, found ${describeValue(input)}${hint}`;
      }
      // One wrong type against every alternative: name them all.
      const expected = issue.errors.map((branch) => branch[0]).filter((b) => b?.code === 'invalid_type' && b.path.length === 0)
        .map((b) => article(typeName((b as { expected: string }).expected)));
      if (expected.length === issue.errors.length && expected.length > 0) return `expected ${[...new Set(expected)].join(' or ')}, found ${found}`;
      return `${issue.message.split('\n')[0]}, found ${found}`;
    }
    default:
      return issue.message.split('\n')[0];
  }
}

/**
 * The issue to report: for a union where the value had the right type for exactly one
 * alternative, that alternative's own first issue (with its full path), which says
 * more than "no alternative matched".
 */
export function innermostIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || (issue as { options?: unknown }).options) return issue;
  const deeper = issue.errors.map((branch) => branch[0]).filter((b) => b && !(b.code === 'invalid_type' && b.path.length === 0));
  if (deeper.length !== 1) return issue;
  return innermostIssue({ ...deeper[0], path: [...issue.path, ...deeper[0].path] } as z.core.$ZodIssue);
}

type AnySchema = { _zod: { def: Record<string, unknown> & { type: string } } };

/**
 * The keys an object schema allows at `path` inside `input` (following defaults,
 * optionals, records, lists and discriminated unions), or undefined if there is no
 * object schema there.
 */
export function keysAt(schema: unknown, path: readonly PropertyKey[], input: unknown): string[] | undefined {
  let current = schema as AnySchema | undefined;
  let value = input;
  for (let depth = 0; current; ) {
    const def = current._zod.def;
    switch (def.type) {
      case 'default': case 'optional': case 'nullable': case 'prefault': case 'readonly': case 'catch':
        current = def.innerType as AnySchema;
        continue;
      case 'pipe':
        current = def.in as AnySchema;
        continue;
      case 'union': {
        const discriminator = def.discriminator as string | undefined;
        const options = def.options as AnySchema[];
        const tag = discriminator && value && typeof value === 'object' ? (value as Record<string, unknown>)[discriminator] : undefined;
        current = options.find((option) => {
          const shape = option._zod.def.shape as Record<string, AnySchema> | undefined;
          const literal = discriminator && shape && Object.hasOwn(shape, discriminator) ? shape[discriminator]._zod.def : undefined;
          return (literal?.values as unknown[] | undefined)?.includes(tag);
        });
        if (!current) return undefined;
        continue;
      }
      default:
        break;
    }
    if (depth === path.length) return def.type === 'object' ? Object.keys(def.shape as object) : undefined;
    const key = path[depth++];
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    if (def.type === 'object') current = Object.hasOwn(def.shape as object, key) ? (def.shape as Record<PropertyKey, AnySchema>)[key] : undefined;
    else if (def.type === 'record') current = def.valueType as AnySchema;
    else if (def.type === 'array') current = def.element as AnySchema;
    else return undefined;
  }
  return undefined;
}

import type { z } from 'zod';

/** A value as a scenario author would name it in an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
const typeNames: Record<string, string> = { object: 'mapping', array: 'list', int: 'integer' };

/** One zod issue as "expected X, found Y". `allowedKeys` lists the keys valid where a key was unknown. */
export function describeIssue(issue: z.core.$ZodIssue, allowedKeys?: readonly string[]): string {
  const found = describeValue((issue as { input?: unknown }).input);
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${article(typeNames[issue.expected] ?? issue.expected)}, found ${found}`;
    case 'unrecognized_keys':
      return `unknown key${allowedKeys ? ` (expected one of: ${allowedKeys.join(', ')})` : ''}`;
    case 'too_small':
      return `expected ${issue.origin === 'array' ? 'a list with at least' : 'a value'} ${issue.inclusive ? '>=' : '>'} ${issue.minimum}, found ${found}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' ? 'a list with at most' : 'a value'} ${issue.inclusive ? '<=' : '<'} ${issue.maximum}, found ${found}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, found ${found}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options) return `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, found ${describeValue((issue.input as Record<string, unknown> | undefined)?.[String(issue.path.at(-1))])}`;
      return `${issue.message}, found ${found}`;
    }
    default:
      return issue.message;
  }
}

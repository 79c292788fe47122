import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { z } from 'zod';
import { builtinRegistry } from './builtins.js';
import { runCommand } from './run-command.js';
import { ScenarioError } from './scenario/errors.js';
import { loadScenario } from './scenario/load.js';
import { scheduleSchema } from './scenario/schema.js';
import { pcsimVersion } from './version.js';

/** Bad input: one line on stderr, exit code 2, no stack trace. */
function fail(message: string): never {
  process.stderr.write(`pcsim: ${message}\n`);
  process.exit(2);
}

async function guarded(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof ScenarioError) fail(error.message);
    throw error;
  }
}

interface JsonSchemaNode {
  description?: string; default?: unknown; type?: string; enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>; anyOf?: JsonSchemaNode[]; oneOf?: JsonSchemaNode[];
}

/** "key: type (default ...) - description" lines for each parameter of a schema; nested keys dotted. */
function describeParams(schema: z.ZodType, indent: string): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const lines: string[] = [];
  const walk = (properties: Record<string, JsonSchemaNode>, prefix: string) => {
    for (const [key, p] of Object.entries(properties)) {
      if (p.properties) {
        walk(p.properties, `${prefix}${key}.`);
        continue;
      }
      const variants = p.anyOf ?? p.oneOf;
      const type = p.enum ? p.enum.map((v) => JSON.stringify(v)).join('|') : p.type ?? (variants ? 'one of several forms' : 'value');
      const fallback = p.default === undefined ? '' : ` (default ${JSON.stringify(p.default)})`;
      lines.push(`${indent}${prefix}${key}: ${type}${fallback}${p.description ? ` - ${p.description}` : ''}`);
    }
  };
  walk(json.properties ?? {}, '');
  return lines;
}

function list(): void {
  const registry = builtinRegistry();
  const lines: string[] = [];
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
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('pcsim')
    .version(pcsimVersion)
    .usage('$0 <command>\n\nDeterministic simulator of peer-to-peer clouds.')
    .command(
      'run <scenario>',
      'run a scenario; write metrics.csv and manifest.json',
      (y) => y
        .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (YAML)' })
        .option('out', { type: 'string', describe: 'output folder (default results/<name>-seed<seed>)' })
        .option('seed', { type: 'number', describe: "replace the scenario's seed" })
        .option('set', { type: 'string', array: true, describe: 'override a scenario key: key.path=value (repeatable)' })
        .option('progress', { type: 'boolean', default: true, describe: 'progress bar on stderr (only when it is a terminal)' }),
      (args) => guarded(() => runCommand(args)),
    )
    .command(
      'validate <scenario>',
      'check a scenario file without running it',
      (y) => y
        .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (YAML)' })
        .option('set', { type: 'string', array: true, describe: 'override a scenario key: key.path=value (repeatable)' }),
      (args) => guarded(async () => {
        const { scenario } = await loadScenario(args.scenario, { set: args.set });
        process.stdout.write(`${args.scenario}: valid (${scenario.size} nodes, ${scenario.cycles} cycles, protocols: ${Object.keys(scenario.protocols).join(', ')})\n`);
      }),
    )
    .command('list', 'list protocols, observers and controls with their parameters and defaults', () => {}, list)
    .demandCommand(1, 'name a command: run, validate or list')
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      fail(message);
    })
    .help()
    .parseAsync();
}

// Run when executed directly (bin/pcsim.js imports this file).
export function runCli(): void {
  main(hideBin(process.argv)).catch((error: unknown) => {
    process.stderr.write(`pcsim: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

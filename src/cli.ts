import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import yargs, { type Options } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { builtinRegistry } from './builtins.js';
import { checkCampaignCommand, mergeCommand, planCommand, plotCommand, sweepCommand } from './campaign/commands.js';
import { isCampaignFolder } from './campaign/check-campaign.js';
import { scenarioJsonSchema } from './cli/json-schema.js';
import { checkCheckpointEvery } from './output/checkpoint.js';
import { listText } from './cli/list.js';
import { nearMiss } from './engine/suggest.js';
import { describeError, internalStack } from './engine/describe-error.js';
import type { Registry } from './engine/registry.js';
import { resumeCommand, runCommand } from './run-command.js';
import { checkCommand, diffCommand } from './expect/commands.js';
import { ScenarioError } from './engine/errors.js';
import { formatBytes } from './scenario/memory.js';
import { loadPlugin } from './scenario/plugins.js';
import { validateScenario } from './scenario/validate.js';
import { pcsimVersion } from './version.js';

/**
 * Exit codes: 0 done; 2 bad input (the command line, a scenario, a plug-in that
 * fails while loading or while the run is built): one line, no stack; 1 a run that
 * failed once it had started (a plug-in throwing mid-run, a full disk): one line;
 * 1 with a stack trace for a bug in pcsim itself.
 */
function exit(code: 1 | 2, message: string): never {
  process.stderr.write(`pcsim: ${message}\n`);
  process.exit(code);
}

/** Any error from a command, ending the process with the exit code its kind calls for. */
function report(error: unknown): never {
  if (error instanceof ScenarioError) exit(2, error.message);
  const stack = internalStack(error);
  // Thrown by pcsim's own code, not a plug-in's or the system's: a bug, and the stack is the bug report.
  if (stack !== undefined) exit(1, `internal error (a bug in pcsim: please report it with this trace): ${stack}`);
  exit(1, describeError(error));
}

/** Every command's handler: whatever it throws, even `undefined`, becomes an exit code and one line. */
async function guarded(action: () => Promise<void> | void): Promise<void> {
  try {
    await action();
  } catch (error) {
    report(error);
  }
}

const asList = (value: string | string[]): string[] => [value].flat();

/** An option given once: a second occurrence would otherwise silently win or become a list. */
function once<T>(name: string) {
  return (value: T | T[]): T => {
    if (Array.isArray(value)) throw new ScenarioError('', `expected one value, found ${value.length}: ${value.map(String).join(', ')}`, `--${name}`);
    return value;
  };
}

const seedOption = {
  type: 'number', nargs: 1, requiresArg: true, describe: "replace the scenario's seed",
  coerce: (value: number | number[]) => {
    const seed = once<number>('seed')(value);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ScenarioError('', `expected a non-negative integer, found ${seed}`, '--seed');
    return seed;
  },
} as const satisfies Options;

/** Repeatable, and each occurrence takes exactly one value: `run --set size=50 x.yaml` keeps x.yaml as the scenario. */
const setOption = {
  type: 'string', nargs: 1, requiresArg: true, coerce: asList,
  describe: 'override a scenario key: key.path=value (repeatable)',
} as const satisfies Options;

const pluginOption = {
  type: 'string', nargs: 1, requiresArg: true, coerce: asList,
  describe: 'also cover the types this plug-in file defines (repeatable)',
} as const satisfies Options;

const graceOption = {
  type: 'number', nargs: 1, requiresArg: true, coerce: once<number>('grace'),
  describe: 'seconds the current cycle may still run after SIGINT, SIGTERM or SIGHUP before the run is ended at once (default 10; writing a checkpoint does not count)',
} as const satisfies Options;
const progressOption = { type: 'boolean', default: true, describe: 'progress bar on stderr (only when it is a terminal)' } as const satisfies Options;

/** A whole number of cycles from 1 to 2^50; checked where the option is read, as the library checks it. */
function checkpointEveryOption(describe: string) {
  return {
    type: 'number', nargs: 1, requiresArg: true, describe,
    coerce: (value: number | number[]) => {
      const every = once<number>('checkpoint-every')(value);
      checkCheckpointEvery(every);
      return every;
    },
  } as const satisfies Options;
}

const runOptions = {
  out: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('out'), describe: 'output folder (default results/<name>-seed<seed>-<run id>)' },
  seed: seedOption,
  set: setOption,
  force: { type: 'boolean', default: false, describe: 'replace the run the output folder already holds' },
  'checkpoint-every': checkpointEveryOption('write DIR/checkpoint after every N cycles (periods), to resume from (SIGINT, SIGTERM and SIGHUP write one anyway)'),
  grace: graceOption,
  progress: progressOption,
  junit: junitOption(),
} as const satisfies Record<string, Options>;

const resumeOptions = {
  'checkpoint-every': checkpointEveryOption("write DIR/checkpoint after every N cycles (periods) (default: the run's own)"),
  grace: graceOption,
  progress: progressOption,
  junit: junitOption(),
} as const satisfies Record<string, Options>;

function junitOption(describe = "write the scenario's expectations, checked at the end, as JUnit XML to this file") {
  return { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('junit'), describe } as const satisfies Options;
}
const checkOptions = { junit: junitOption('write the expectations checked as JUnit XML to this file') } as const satisfies Record<string, Options>;
const diffOptions = {
  tolerance: { type: 'number', nargs: 1, requiresArg: true, coerce: once<number>('tolerance'), describe: 'values this far apart (absolute) count as equal (default 0)' },
  relative: { type: 'number', nargs: 1, requiresArg: true, coerce: once<number>('relative'), describe: "values this far apart relative to the first run's count as equal (default 0)" },
} as const satisfies Record<string, Options>;

const validateOptions = {
  seed: seedOption,
  set: setOption,
} as const satisfies Record<string, Options>;
const listOptions = { plugin: pluginOption } as const satisfies Record<string, Options>;
const schemaOptions = {
  out: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('out'), describe: 'write the schema to this file (default: standard output)' },
  plugin: pluginOption,
} as const satisfies Record<string, Options>;

const selectOptions = {
  out: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('out'), describe: "the campaign's folder (default: the experiment's out, or results/<name>)" },
  set: { ...setOption, describe: 'override a scenario key in every run: key.path=value (repeatable)' },
  shard: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('shard'), describe: 'only the runs at positions i, i + n, i + 2n... of the plan (i/n, 0 <= i < n)' },
  index: {
    type: 'number', nargs: 1, requiresArg: true, coerce: once<number>('index'),
    describe: 'only the run at this position of the plan (default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX when set)',
  },
  quick: { type: 'boolean', default: false, describe: "the experiment's quick version (its quick: block), in <out>-quick" },
} as const satisfies Record<string, Options>;
const planOptions = {
  ...selectOptions,
  count: { type: 'boolean', default: false, describe: 'print only the number of runs in the plan' },
} as const satisfies Record<string, Options>;
const sweepOptions = {
  ...selectOptions,
  jobs: { type: 'number', nargs: 1, requiresArg: true, coerce: once<number>('jobs'), describe: 'runs at once (default: the number of cores)' },
  'checkpoint-every': checkpointEveryOption('each run writes its checkpoint after every N cycles (periods), to resume from'),
  progress: { type: 'boolean', default: true, describe: "the campaign's progress on stderr (only when it is a terminal)" },
  junit: junitOption("write the campaign's expectations and its runs' own, checked at the end, as JUnit XML to this file"),
} as const satisfies Record<string, Options>;
const mergeOptions = {
  out: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('out'), describe: 'write metrics.csv and campaign.json here (default: the first folder)' },
} as const satisfies Record<string, Options>;
const plotOptions = {
  metric: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('metric'), describe: 'the metric (or observer.metric) to plot' },
  x: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('x'), describe: 'the column along x (default cycle, or time)' },
  color: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('color'), describe: 'a column: one line per value' },
  facet: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('facet'), describe: 'a column: one panel per value' },
  from: { type: 'number', nargs: 1, requiresArg: true, coerce: once<number>('from'), describe: 'only rows from this cycle (time) on' },
  log: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('log'), describe: 'draw these axes on a log scale: x, y or xy (their values must be positive)' },
  title: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('title'), describe: 'the title (default: the metric)' },
  out: { type: 'string', nargs: 1, requiresArg: true, coerce: once<string>('out'), describe: 'the SVG file (default <metric>.svg beside the CSV); the spec goes beside it as .vl.json' },
} as const satisfies Record<string, Options>;

/** Each command's options, for suggestions on a misspelt one. */
const commandOptions: Record<string, readonly string[]> = {
  run: Object.keys(runOptions),
  resume: Object.keys(resumeOptions),
  validate: Object.keys(validateOptions),
  list: Object.keys(listOptions),
  schema: Object.keys(schemaOptions),
  plan: Object.keys(planOptions),
  sweep: Object.keys(sweepOptions),
  merge: Object.keys(mergeOptions),
  plot: Object.keys(plotOptions),
  check: Object.keys(checkOptions),
  diff: Object.keys(diffOptions),
};
const commandNames = Object.keys(commandOptions);

/** The built-in types, plus those of plug-in files named on the command line. */
async function registryWith(plugins: readonly string[] = []): Promise<Registry> {
  const registry = builtinRegistry();
  for (const plugin of plugins) {
    try {
      await loadPlugin(resolve(plugin), '', registry);
    } catch (error) {
      if (error instanceof ScenarioError) error.locate('--plugin');
      throw error;
    }
  }
  return registry;
}

async function schema(args: { out?: string; plugin?: string[] }): Promise<void> {
  const text = `${JSON.stringify(scenarioJsonSchema(await registryWith(args.plugin)), null, 2)}\n`;
  if (args.out === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(args.out, text);
  } catch (error) {
    throw new ScenarioError('', `cannot write ${args.out}: ${describeError(error)}`, '--out');
  }
  process.stderr.write(`pcsim: JSON Schema of the scenario format written to ${args.out}\n`);
}

/** yargs' complaint about the command line, reworded as one line with a suggestion where one fits. */
function usageProblem(message: string, argv: readonly string[]): string {
  const command = argv.find((arg) => !arg.startsWith('-'));
  const didYouMean = /^Did you mean (.+)\?$/.exec(message);
  // yargs suggests a command even for a word nothing like one: keep only likely typos.
  if (didYouMean && command && nearMiss(command, commandNames)) return `unknown command "${command}" (did you mean ${nearMiss(command, commandNames)}?)`;
  if (didYouMean) return `unknown command "${command}" (expected ${commandNames.join(', ')})`;
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    return unknown[1].split(', ').map((name) => {
      if (name === command && !commandNames.includes(name)) return `unknown command "${name}" (expected ${commandNames.join(', ')})`;
      const asOption = argv.some((arg) => arg.replace(/^-+/, '').split('=')[0] === name && arg.startsWith('-'));
      if (!asOption) return `unexpected argument "${name}"`;
      const suggestion = nearMiss(name, [...(commandOptions[command ?? ''] ?? []), 'help', 'version']);
      return `unknown option --${name}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`;
    }).join('; ');
  }
  const needsValue = /^Not enough arguments following: (.+)$/.exec(message);
  if (needsValue) return `--${needsValue[1]} needs a value${needsValue[1] === 'set' ? ': --set key.path=value' : ''}`;
  if (/^Not enough non-option arguments/.test(message) && command === 'resume') return 'resume: name the folder of a run (pcsim resume <dir>)';
  if (/^Not enough non-option arguments/.test(message) && (command === 'plan' || command === 'sweep')) return `${command}: name an experiment file (pcsim ${command} <experiment>)`;
  if (/^Not enough non-option arguments/.test(message) && command === 'merge') return 'merge: name the folder of a campaign, or several (pcsim merge <dir...>)';
  if (/^Not enough non-option arguments/.test(message) && command === 'check') return 'check: name the folder of a run or of a campaign (pcsim check <dir>)';
  if (/^Not enough non-option arguments/.test(message) && command === 'diff') return 'diff: name the folders of two runs (pcsim diff <dir> <dir>)';
  if (/^Not enough non-option arguments/.test(message) && command === 'plot') return 'plot: name a metrics.csv or a campaign folder (pcsim plot <csv or dir> --metric M)';
  if (/^Not enough non-option arguments/.test(message) && command && commandNames.includes(command)) {
    return `${command}: name a scenario file (pcsim ${command} <scenario>)`;
  }
  return message;
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
        .options(runOptions),
      (args) => guarded(() => runCommand(args)),
    )
    .command(
      'resume <dir>',
      "continue an interrupted run from its checkpoint, to the same metrics.csv an uninterrupted run writes",
      (y) => y
        .positional('dir', { type: 'string', demandOption: true, describe: "the run's folder" })
        .options(resumeOptions),
      (args) => guarded(() => resumeCommand(args)),
    )
    .command(
      'validate <scenario>',
      'check a scenario file without running it',
      (y) => y
        .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (YAML)' })
        .options(validateOptions),
      (args) => guarded(async () => {
        const { scenario, estimateBytes, lowerBound } = await validateScenario(args.scenario, { seed: args.seed, set: args.set, registry: builtinRegistry() });
        const memory = `${lowerBound ? 'at least ' : 'about '}${formatBytes(estimateBytes)} of node state`;
        process.stdout.write(`${args.scenario}: valid (${scenario.size} nodes, ${scenario.cycles} cycles, protocols: ${Object.keys(scenario.protocols).join(', ')}; ${memory})\n`);
      }),
    )
    .command(
      'list',
      'list scenario keys, distributions, latency models, and every protocol, observer and control with its parameters and defaults',
      (y) => y.options(listOptions),
      (args) => guarded(async () => { process.stdout.write(listText(await registryWith(args.plugin))); }),
    )
    .command(
      'schema',
      'write a JSON Schema of the scenario format, for editors',
      (y) => y.options(schemaOptions),
      (args) => guarded(() => schema(args)),
    )
    .command(
      'plan <experiment>',
      'list the runs of a campaign: id, parameters, replicate, seed, state and folder of each',
      (y) => y
        .positional('experiment', { type: 'string', demandOption: true, describe: 'experiment file (YAML)' })
        .options(planOptions),
      (args) => guarded(() => planCommand(args)),
    )
    .command(
      'sweep <experiment>',
      "make a campaign's runs (skipping those done, resuming those with a checkpoint), then merge and plot them",
      (y) => y
        .positional('experiment', { type: 'string', demandOption: true, describe: 'experiment file (YAML)' })
        .options(sweepOptions),
      (args) => guarded(() => sweepCommand(args)),
    )
    .command(
      'merge <dirs..>',
      "merge campaign folders (a sweep's, or its shards') into one metrics.csv and campaign.json",
      (y) => y
        .positional('dirs', { type: 'string', array: true, demandOption: true, describe: 'campaign folders' })
        .options(mergeOptions),
      (args) => guarded(() => mergeCommand({ dirs: args.dirs, out: args.out })),
    )
    .command(
      'plot <input>',
      'draw a metric (mean over replicates, 95% confidence band) as an SVG, with its vega-lite spec',
      (y) => y
        .positional('input', { type: 'string', demandOption: true, describe: 'a metrics.csv, or a campaign folder' })
        .options(plotOptions),
      (args) => guarded(() => plotCommand(args)),
    )
    .command(
      'check <dir>',
      "check a finished run's expectations (its scenario's expect: block), or a campaign's (its experiment's), without running anything again",
      (y) => y
        .positional('dir', { type: 'string', demandOption: true, describe: "the folder of a run, or of a campaign" })
        .options(checkOptions),
      (args) => guarded(() => (isCampaignFolder(args.dir) ? checkCampaignCommand(args) : checkCommand(args))),
    )
    .command(
      'diff <a> <b>',
      "compare two runs' metrics, row by row",
      (y) => y
        .positional('a', { type: 'string', demandOption: true, describe: "the first run's folder" })
        .positional('b', { type: 'string', demandOption: true, describe: "the second run's folder" })
        .options(diffOptions),
      (args) => guarded(() => diffCommand(args)),
    )
    .demandCommand(1, `name a command: ${commandNames.join(', ')} (pcsim --help)`)
    .recommendCommands()
    .strict()
    .fail((message, error) => {
      // Handlers report their own errors (guarded); what reaches here is about the command line.
      if (error && error.name !== 'YError') throw error;
      exit(2, usageProblem(message ?? error?.message ?? 'bad command line', argv));
    })
    .help()
    .parseAsync();
}

/** The `pcsim` command (bin/pcsim.js). */
export function runCli(): void {
  // Exit when the command is done, even if a plug-in left a timer or handle open.
  main(hideBin(process.argv)).then(() => process.exit(), report);
}

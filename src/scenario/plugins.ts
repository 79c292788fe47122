import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError, displayPath, userFrame } from '../engine/describe-error.js';
import type { AnyDefinition, Registry } from '../engine/registry.js';
import { ScenarioError } from '../engine/errors.js';
import { registerPluginHooks } from './plugin-hooks.js';

/**
 * Loads the plug-in module at `path` (.ts through tsx, .js and .mjs natively) and
 * registers what it defines. Anything that goes wrong while loading it, whatever it
 * throws, is bad input: one line naming the plug-in's own file and line.
 */
export async function loadPlugin(path: string, keyPath: string, registry: Registry): Promise<void> {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new ScenarioError(keyPath, `plug-in file not found: ${path}`);
  }
  if (!isFile) throw new ScenarioError(keyPath, `expected a plug-in file (.ts, .mts, .js, .mjs), found something else at ${path}`);

  registerPluginHooks(import.meta.url);
  let module: Record<string, unknown>;
  try {
    if (/\.(c|m)?tsx?$/.test(path)) {
      // Stack traces through the plug-in then name its .ts lines, not the compiled ones.
      process.setSourceMapsEnabled(true);
      const { tsImport } = await import('tsx/esm/api');
      module = await tsImport(pathToFileURL(path).href, import.meta.url);
    } else {
      module = await import(pathToFileURL(path).href);
    }
  } catch (error) {
    const where = error instanceof SyntaxError && !userFrame(error) ? syntaxErrorLine(path) : undefined;
    throw new ScenarioError(keyPath, `cannot load plug-in ${path}: ${describeError(error)}${where ? ` (at ${where})` : ''}`);
  }
  const exported = module.default ?? module;
  const definitions = collectDefinitions(exported);
  if (definitions.length === 0) {
    throw new ScenarioError(keyPath, `expected the plug-in ${path} to export (as default) a definition or a list of them, found none`);
  }
  for (const definition of definitions) {
    try {
      registry.register(definition);
    } catch (error) {
      throw new ScenarioError(keyPath, (error as Error).message);
    }
  }
}

/**
 * Node's SyntaxError for an ES module says neither file nor line; `node --check`
 * prints them (`file:line` first). Only on this error path, so its cost never matters.
 */
function syntaxErrorLine(path: string): string | undefined {
  const asModule = extname(path) === '.js' && process.allowedNodeEnvironmentFlags.has('--experimental-default-type') ? ['--experimental-default-type=module'] : [];
  const check = spawnSync(process.execPath, [...asModule, '--check', path], { encoding: 'utf8', timeout: 10_000 });
  const match = /^(.+):(\d+)$/.exec(check.stderr?.split('\n')[0] ?? '');
  return match ? `${displayPath(match[1])}:${match[2]}` : undefined;
}

function collectDefinitions(exported: unknown): AnyDefinition[] {
  const isDefinition = (x: unknown): x is AnyDefinition =>
    x !== null && typeof x === 'object' && typeof (x as AnyDefinition).type === 'string' && typeof (x as AnyDefinition).create === 'function';
  if (isDefinition(exported)) return [exported];
  if (Array.isArray(exported)) return exported.filter(isDefinition);
  if (exported && typeof exported === 'object') return Object.values(exported).filter(isDefinition);
  return [];
}

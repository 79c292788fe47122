import { pathToFileURL } from 'node:url';
import type { AnyDefinition, Registry } from '../engine/registry.js';
import { ScenarioError } from './errors.js';

/** Loads the plug-in module at `path` (.ts through tsx, .js natively) and registers what it defines. */
export async function loadPlugin(path: string, keyPath: string, registry: Registry): Promise<void> {
  let module: Record<string, unknown>;
  try {
    if (/\.(c|m)?ts$/.test(path)) {
      const { tsImport } = await import('tsx/esm/api');
      module = await tsImport(pathToFileURL(path).href, import.meta.url);
    } else {
      module = await import(pathToFileURL(path).href);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(path)
      ? `plug-in file not found: ${path}`
      : `cannot load plug-in ${path}: ${(error as Error).message.split('\n')[0]}`;
    throw new ScenarioError(keyPath, reason);
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

function collectDefinitions(exported: unknown): AnyDefinition[] {
  const isDefinition = (x: unknown): x is AnyDefinition =>
    x !== null && typeof x === 'object' && typeof (x as AnyDefinition).type === 'string' && typeof (x as AnyDefinition).create === 'function';
  if (isDefinition(exported)) return [exported];
  if (Array.isArray(exported)) return exported.filter(isDefinition);
  if (exported && typeof exported === 'object') return Object.values(exported).filter(isDefinition);
  return [];
}

import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Module hooks that let a plug-in anywhere `import { defineProtocol, z } from 'pcsim'`:
 *
 * - `pcsim` resolves as usual, and to the running pcsim when the plug-in's folder has
 *   none (no node_modules at all, or one without pcsim);
 * - a .ts plug-in (and the .ts files it imports) is an ES module even when its folder
 *   has no package.json saying `"type": "module"`: tsx would otherwise compile it to
 *   CommonJS, whose `require('pcsim')` these hooks never see. A package.json that says
 *   `"type": "commonjs"` is obeyed, and modules that are not plug-ins keep their rules.
 *
 * Node runs hooks on a thread of their own, from a module of their own; they are kept
 * as source text here so that they load the same from dist/ and from src/ (tests).
 * Registered before tsx's, they run after tsx's resolver in the chain, which is what
 * lets tsx map `./x.js` to `./x.ts` first.
 */
const hooksSource = String.raw`
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let runningPcsim;
let pluginLoader;
export function initialize(data) {
  runningPcsim = data.runningPcsim;
  pluginLoader = data.pluginLoader;
}

export async function resolve(specifier, context, nextResolve) {
  let resolved;
  try {
    resolved = await nextResolve(specifier, context);
  } catch (error) {
    if (specifier === 'pcsim' && error?.code === 'ERR_MODULE_NOT_FOUND') return { url: runningPcsim, format: 'module', shortCircuit: true };
    throw error;
  }
  if ((resolved.format === undefined || resolved.format === 'commonjs') && loadedForPcsim(specifier, context) && isUserTypeScript(resolved.url)) {
    return { ...resolved, format: 'module' };
  }
  return resolved;
}

/** A plug-in (imported by pcsim's loader), or a module it imports (tsx marks their URLs): not the rest of the program. */
function loadedForPcsim(specifier, context) {
  const parent = context.parentURL ?? '';
  return parent === pluginLoader || parent.includes('tsx-namespace=');
}

function isUserTypeScript(url) {
  if (!url.startsWith('file:')) return false;
  const path = fileURLToPath(url.replace(/[?#].*$/, ''));
  if (!/\.tsx?$/.test(path) || path.endsWith('.d.ts') || /[\\/]node_modules[\\/]/.test(path)) return false;
  return packageType(dirname(path)) !== 'commonjs';
}

const typeByFolder = new Map();
/** The "type" of the nearest package.json above the folder, as Node looks it up. */
function packageType(folder) {
  if (typeByFolder.has(folder)) return typeByFolder.get(folder);
  let type;
  try {
    type = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')).type ?? 'none';
  } catch (error) {
    const parent = dirname(folder);
    type = error?.code === 'ENOENT' && parent !== folder ? packageType(parent) : 'none';
  }
  typeByFolder.set(folder, type);
  return type;
}
`;

let registered = false;

/**
 * Installs the hooks once per thread (a run may load plug-ins in a worker), before the
 * first plug-in loads. `pluginLoader` is the URL of the module that imports plug-ins.
 */
export function registerPluginHooks(pluginLoader: string): void {
  if (registered) return;
  registered = true;
  register(`data:text/javascript,${encodeURIComponent(hooksSource)}`, { data: { runningPcsim: runningPcsimEntry(), pluginLoader } });
}

/** The package's own entry point (dist/index.js), found the way a user's import would find it. */
function runningPcsimEntry(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('pcsim')).href;
  } catch {
    // Not resolvable by name (a copy renamed or bundled): the entry point beside this build.
    return new URL('../index.js', import.meta.url).href;
  }
}

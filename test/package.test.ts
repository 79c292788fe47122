import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeExample } from './readme-example.js';

const checkout = resolve('.');
const work = mkdtempSync(join(tmpdir(), 'pcsim-package-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** npm, outside any npm script's settings (`npm test` exports its own, e.g. the project folder). */
function npm(args: string[], cwd: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  const result = spawnSync('npm', args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

describe('the packed package', () => {
  it('installs from its tarball in an empty folder and runs the README\'s plug-in example', () => {
    // The checkout's build (dist/) is what gets packed; building is the job of `npm ci` / `npm run build`.
    const packs = join(work, 'packs');
    mkdirSync(packs);
    const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', packs, checkout], work)) as
      { filename: string; files: { path: string }[] }[];
    const contents = packed.files.map((f) => f.path);
    expect(contents).toEqual(expect.arrayContaining(['bin/pcsim.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'package.json']));
    expect(contents.filter((path) => /^(src|test)\/|\.map$/.test(path))).toEqual([]);

    const project = join(work, 'project');
    mkdirSync(project);
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(packs, packed.filename)], project);

    for (const file of readmeExample()) {
      mkdirSync(dirname(join(project, file.path)), { recursive: true });
      writeFileSync(join(project, file.path), file.text);
    }
    const files = readmeExample().map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['rumour.yaml', 'plugins/rumour.ts', 'plugins/informed.mjs', 'run-rumour.mjs']));

    const run = spawnSync(join(project, 'node_modules', '.bin', 'pcsim'), ['run', 'rumour.yaml', '--out', 'out'], { cwd: project, encoding: 'utf8' });
    expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining('completed: 20 cycles')]);
    expect(run.status).toBe(0);
    const [header, ...rows] = readFileSync(join(project, 'out', 'metrics.csv'), 'utf8').trimEnd().split('\n').map((line) => line.split(','));
    expect(header).toEqual(['scenario', 'seed', 'cycle', 'observer', 'metric', 'value']);
    const informed = rows.filter((row) => row[3] === 'spread' && row[4] === 'informed_fraction').map((row) => Number(row[5]));
    expect(informed).toHaveLength(21);
    expect(informed[0]).toBe(1 / 10000);
    expect(informed.at(-1)).toBeGreaterThan(0.99);

    // The library form: rows to a sink of one's own.
    const library = spawnSync(process.execPath, ['run-rumour.mjs'], { cwd: project, encoding: 'utf8' });
    expect(library.stderr).toBe('');
    expect(library.stdout.trimEnd().split('\n').at(-1)).toMatch(/^5 spread informed_fraction 0\.\d+$/);
  }, 120_000);
});

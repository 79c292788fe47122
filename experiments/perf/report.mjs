// Plumbing shared by the perf scripts: command-line options, the median, and the
// results table appended to results/perf/<name>.tsv with the date, commit and Node.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);

/** The value after `--name` on the command line, or `fallback`. */
export function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return '-';
  }
}

/** Prints the rows as a table and appends them to results/perf/<name>.tsv (header on first use). */
export function report(name, rows) {
  console.table(rows);
  const out = new URL(`../../results/perf/${name}.tsv`, import.meta.url);
  mkdirSync(new URL('.', out), { recursive: true });
  if (!existsSync(out)) writeFileSync(out, `${['date', 'commit', 'node', ...Object.keys(rows[0])].join('\t')}\n`);
  const stamp = [new Date().toISOString(), commit(), process.version];
  for (const row of rows) appendFileSync(out, `${[...stamp, ...Object.values(row)].join('\t')}\n`);
}

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../../src/campaign/experiment.js';
import { plotMetric } from '../../src/campaign/plot.js';
import { tempDir } from '../helpers.js';

/* Log-scale axes: vega-lite's log scale where asked, and a clean error for what a log axis cannot show. */

/** A merged metrics.csv: sizes 10, 100, 1000, two replicates, metric m at cycles 0-2 with value(size, replicate, cycle). */
function metricsCsv(value: (size: number, replicate: number, cycle: number) => number): string {
  const dir = tempDir('pcsim-plot-log-');
  const rows = [10, 100, 1000].flatMap((size) => [0, 1].flatMap((replicate) => [0, 1, 2].map((cycle) =>
    `s,${size},${replicate},${replicate + 1},${cycle},o,m,${value(size, replicate, cycle)}`)));
  const file = join(dir, 'metrics.csv');
  writeFileSync(file, `scenario,size,replicate,seed,cycle,observer,metric,value\n${rows.join('\n')}\n`);
  return file;
}

type Layer = { transform?: unknown[]; encoding: Record<string, { field: string; scale?: Record<string, unknown> }> };
const specOf = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { data: { values: Record<string, number>[] }; layer: Layer[] };

describe('pcsim plot on log axes', () => {
  it('draws x on a log scale, and leaves the spec of a linear plot without one', async () => {
    const csv = metricsCsv((size, replicate, cycle) => Math.log(size) + replicate + cycle);
    const log = specOf((await plotMetric(csv, { metric: 'm', x: 'size', log: 'x', out: join(csv, '../log.svg') })).spec);
    expect(log.layer.map((layer) => layer.encoding.x.scale)).toEqual([{ type: 'log' }, { type: 'log' }]);
    expect(log.layer.map((layer) => layer.encoding.y.scale)).toEqual([undefined, undefined]);
    const linear = readFileSync((await plotMetric(csv, { metric: 'm', x: 'size', out: join(csv, '../linear.svg') })).spec, 'utf8');
    expect(linear).not.toMatch(/"scale"/);
  });

  it('refuses a value a log axis cannot place, in one line', async () => {
    const csv = metricsCsv((size, replicate, cycle) => cycle * size);
    await expect(plotMetric(csv, { metric: 'm', log: 'x' })).rejects.toThrow(/^--log: expected positive values of cycle along a log x axis, found 0 \(--from leaves out earlier cycles\)$/);
    await expect(plotMetric(csv, { metric: 'm', log: 'y', color: 'size' })).rejects.toThrow(/^--log: expected positive means on a log y axis, found 0 at cycle 0, size 10 \(--from leaves out earlier cycles\)$/);
    await expect(plotMetric(csv, { metric: 'm', log: 'xy', color: 'size', from: 1, out: join(csv, '../from1.svg') })).resolves.toMatchObject({ points: 6 });
    await expect(plotMetric(csv, { metric: 'm', log: 'z' })).rejects.toThrow('--log: expected the axes to draw on a log scale (x, y, xy), found "z"');
    await expect(plotMetric(csv, { metric: 'm', x: 'scenario', log: 'x' })).rejects.toThrow('--log: expected numbers along a log x axis, found scenario "s"');
  });

  it('draws a confidence band reaching below zero down to the lower edge, keeping its true end in the data', async () => {
    // Replicates 0.1 and 2 at size 10: the band's lower end is below zero.
    const csv = metricsCsv((size, replicate) => (size === 10 ? [0.1, 2][replicate] : size));
    const { svg, spec } = await plotMetric(csv, { metric: 'm', x: 'size', log: 'xy' });
    const drawn = specOf(spec);
    expect(drawn.data.values[0].lo).toBeLessThan(0);
    const [band, line] = drawn.layer;
    expect(band.transform).toEqual([{ calculate: 'max(datum.lo, 0)', as: 'lo_drawn' }]);
    expect(band.encoding.y.field).toBe('lo_drawn');
    const yScale = { type: 'log', domain: [drawn.data.values[0].mean, drawn.data.values[2].hi], nice: true, clamp: true };
    expect([band.encoding.y.scale, line.encoding.y.scale]).toEqual([yScale, yScale]);
    expect(readFileSync(svg, 'utf8')).not.toMatch(/NaN|Infinity/);
  });
});

describe('an experiment\'s plots', () => {
  it('take log: x, y or xy, and name anything else in one line', () => {
    const dir = tempDir('pcsim-plot-log-');
    writeFileSync(join(dir, 'exp.yaml'), 'scenario: s.yaml\ngrid: { size: [10, 100] }\nplots:\n  - { metric: m, x: size, log: x }\n');
    expect(loadExperiment(join(dir, 'exp.yaml')).plots[0]).toMatchObject({ metric: 'm', x: 'size', log: 'x' });
    writeFileSync(join(dir, 'exp.yaml'), 'scenario: s.yaml\nplots:\n  - metric: m\n    log: yx\n');
    expect(() => loadExperiment(join(dir, 'exp.yaml'))).toThrow(/exp\.yaml:4: plots\.0\.log: expected "x" or "y" or "xy", found "yx"/);
  });
});

import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetricsCsv } from '../../src/output/metrics-csv.js';
import { tempDir } from '../helpers.js';

describe('metrics.csv', () => {
  it('holds a cycle\'s rows only once the cycle is committed, and never those of one discarded', () => {
    const path = join(tempDir(), 'metrics.csv');
    const csv = new MetricsCsv(openSync(path, 'wx'), { scenario: 's', seed: 1, 'protocols.c.cache': '8' });
    const header = 'scenario,seed,protocols.c.cache,cycle,observer,metric,value\n';
    expect(readFileSync(path, 'utf8')).toBe(header);
    csv.add(0, 'o', 'live', 10);
    csv.add(0, 'o', 'mean', 0.5);
    expect(readFileSync(path, 'utf8')).toBe(header);
    csv.commit();
    const whole = `${header}s,1,8,0,o,live,10\ns,1,8,0,o,mean,0.5\n`;
    expect(readFileSync(path, 'utf8')).toBe(whole);
    csv.add(1, 'o', 'live', 9);
    csv.discard();
    csv.commit();
    csv.add(2, 'o', 'live', 8);
    csv.close();
    expect(readFileSync(path, 'utf8')).toBe(whole);
    expect(csv.bytes).toBe(statSync(path).size);
  });

  it('reports a full disk as an error (the cut back to whole cycles is tested in folder.test.ts)', () => {
    if (process.platform !== 'linux') return;
    // /dev/full accepts the open and fails every write with ENOSPC.
    const fd = openSync('/dev/full', 'w');
    expect(() => new MetricsCsv(fd, { scenario: 's' })).toThrow(/ENOSPC/);
    closeSync(fd);
  });
});

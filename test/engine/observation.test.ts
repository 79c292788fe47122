import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinRegistry } from '../../src/builtins.js';
import { defineObserver, type ObserverInstance } from '../../src/engine/protocol.js';
import { simulate } from '../helpers.js';

/** A plug-in observer whose k-th observation emits `plan(k)`: [metric, value] pairs in that order. */
function registryWith(plan: (k: number) => [string, number][], declared?: { definition?: string[]; instance?: string[] }) {
  return builtinRegistry().register(defineObserver({
    type: 'planned',
    description: 'emits what the test plans',
    params: z.strictObject({}),
    metrics: declared?.definition,
    create: (): ObserverInstance => {
      let k = 0;
      return {
        metrics: declared?.instance,
        observe(emit) {
          for (const [metric, value] of plan(k++)) emit(metric, value);
        },
      };
    },
  }));
}

const scenario = {
  size: 20, cycles: 3,
  protocols: { peers: { type: 'oracle' } },
  observers: { mine: { type: 'planned' } },
};

async function rowsOf(registry: ReturnType<typeof registryWith>): Promise<string[]> {
  const simulation = await simulate(scenario, registry);
  const rows: string[] = [];
  simulation.run((at, observer, metric, value) => rows.push(`${at} ${observer} ${metric} ${value}`));
  return rows;
}

async function errorOf(registry: ReturnType<typeof registryWith>): Promise<string> {
  try {
    await rowsOf(registry);
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
}

describe('an observer that leaves metrics out or changes them', () => {
  it('has a declared metric it leaves out written as NaN, and every row in the declared order', async () => {
    const registry = registryWith((k) => (k % 2 === 0 ? [['b', k], ['a', 1]] : [['a', 2]]), { definition: ['a', 'b'] });
    expect(await rowsOf(registry)).toEqual([
      '0 mine a 1', '0 mine b 0',
      '1 mine a 2', '1 mine b NaN',
      '2 mine a 1', '2 mine b 2',
      '3 mine a 2', '3 mine b NaN',
    ]);
  });

  it('prefers the instance\'s declaration (metrics that depend on parameters) to the definition\'s', async () => {
    const registry = registryWith(() => [['c', 3]], { definition: ['a'], instance: ['c', 'd'] });
    expect((await rowsOf(registry)).slice(0, 2)).toEqual(['0 mine c 3', '0 mine d NaN']);
  });

  it('fails the run, naming the observer, on a metric it does not declare', async () => {
    const registry = registryWith(() => [['a', 1], ['typo', 2]], { definition: ['a', 'b'] });
    expect(await errorOf(registry)).toBe('observers.mine: emitted metric "typo", which is not one of its declared metrics ("a", "b"); ' +
      'every observation has the same metrics (declare them all in `metrics`: those left out are NaN)');
  });

  it('without a declaration, holds every observation to the metrics of the first', async () => {
    const fewer = registryWith((k) => (k === 0 ? [['a', 1], ['b', 2]] : [['b', 5]]));
    expect(await rowsOf(fewer)).toEqual([
      '0 mine a 1', '0 mine b 2', '1 mine a NaN', '1 mine b 5', '2 mine a NaN', '2 mine b 5', '3 mine a NaN', '3 mine b 5',
    ]);
    const more = registryWith((k) => (k === 0 ? [['a', 1]] : [['a', 1], ['b', 2]]));
    expect(await errorOf(more)).toMatch(/^observers\.mine: emitted metric "b", which is not one of the metrics of its first observation \("a"\)/);
  });

  it('fails the run on a metric emitted twice in one observation', async () => {
    expect(await errorOf(registryWith(() => [['a', 1], ['a', 2]]))).toBe('observers.mine: emitted metric "a" twice in one observation');
    expect(await errorOf(registryWith(() => [['a', 1], ['a', 2]], { definition: ['a'] }))).toBe('observers.mine: emitted metric "a" twice in one observation');
  });

  it('refuses a declaration that names a metric twice when the run is built', async () => {
    await expect(simulate(scenario, registryWith(() => [], { definition: ['a', 'a'] })))
      .rejects.toThrow(/observers\.mine: declares metric "a" twice( \(at .*\))?$/);
  });

  it('writes NaN to the CSV as `NaN`, which pandas and R read as a missing number', () => {
    // metrics.csv's writer (csv-stringify) turns numbers into text with String().
    expect(stringify([[1, 'mine', 'b', NaN]])).toBe('1,mine,b,NaN\n');
  });
});

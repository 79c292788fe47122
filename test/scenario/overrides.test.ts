import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/engine/errors.js';
import { loadScenario } from '../../src/index.js';
import { scenarioFile } from '../helpers.js';

const base = {
  size: 100, cycles: 4,
  attributes: { region: { dist: 'discrete', values: [0, 1, 2] } },
  protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
  observers: { overlay: { type: 'overlay', sample: 10, sources: 1 } },
};

async function load(set: string[], seed?: number, scenario: Record<string, unknown> = base) {
  return loadScenario(scenarioFile(scenario), { set, seed });
}

async function errorOf(set: string[], seed?: number): Promise<string> {
  try {
    await load(set, seed);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message;
  }
  return 'no error';
}

describe('--set', () => {
  it('adds keys the file omits: a block\'s key, a transport setting, a whole new control', async () => {
    const { scenario } = await load(['engine=event', 'event.period=500', 'transport.loss=0.1', 'controls.c={type: churn, remove: 0.01}', 'controls.d.type=churn', 'controls.d.substitute=true']);
    expect(scenario.event.period).toBe(500);
    expect(scenario.transport.loss).toBe(0.1);
    expect(scenario.controls.c).toMatchObject({ type: 'churn', params: { remove: 0.01 } });
    expect(scenario.controls.d).toMatchObject({ type: 'churn', params: { substitute: true } });
  });

  it('addresses list elements, and appends one past the end', async () => {
    const { scenario } = await load(['attributes.region.values.1=4', 'attributes.region.values.3=9']);
    expect(scenario.attributes.region).toMatchObject({ values: [0, 4, 2, 9] });
    expect(await errorOf(['attributes.region.values.7=1'])).toBe('--set: attributes.region.values.7: expected a list index at attributes.region.values.7: 0 to 2, or 3 to append, found "7"');
    expect(await errorOf(['plugins.0=./nowhere.ts'])).toMatch(/^--set: plugins\.0: plug-in file not found: .*nowhere\.ts$/);
  });

  it('becomes CSV columns in the order given, each with its text', async () => {
    const { overrides } = await load(['cycles=3', 'protocols.cyclon.cache=9', 'observers.overlay.every=2']);
    expect(Object.entries(overrides)).toEqual([['cycles', '3'], ['protocols.cyclon.cache', '9'], ['observers.overlay.every', '2']]);
  });

  it('refuses a value that is not YAML, and a path that is not one, as --set\'s', async () => {
    expect(await errorOf(['size=[1'])).toBe('--set: size: expected a YAML value, found "[1" (YAML syntax error at column 3: Flow sequence must end with a ])');
    expect(await errorOf(['size'])).toBe('--set: expected key.path=value, found "size"');
    expect(await errorOf(['a..b=1'])).toBe('--set: a..b: expected a key path of names separated by single dots');
    expect(await errorOf(['size.x=1'])).toBe('--set: size.x: cannot set a key inside size, which is 100');
    expect(await errorOf(['protocols.cyclon.cache=8', 'protocols.cyclon={type: cyclon, cache: 9}']))
      .toBe('--set: protocols.cyclon: expected key paths that do not overlap, found protocols.cyclon.cache set too');
    // As deep as a file may nest, and no deeper: a path of 60,000 keys once took minutes and all memory.
    expect(await errorOf([`controls.c.${Array(60_000).fill('x').join('.')}=1`]))
      .toBe('--set: controls.c.x...: expected a key path at most 100 keys deep (as a file may nest), found 60002');
  });

  it('suggests the key meant by a near miss, everywhere', async () => {
    expect(await errorOf(['observers.overlay.evry=2'])).toBe('--set: observers.overlay.evry: unknown key (expected one of: type, protocol, sample, sources, components, every, from, until, final); did you mean every?');
    expect(await errorOf(['protocls.x=1'])).toMatch(/^--set: protocls: unknown key \(expected one of: name, seed, .*\); did you mean protocols\?$/);
    expect(await errorOf(['protocols.cyclon.cahce=4'])).toMatch(/; did you mean cache\?$/);
    expect(await errorOf(['event.perod=4'])).toBe('--set: event.perod: unknown key (expected one of: period, jitter, timeout); did you mean period?');
    expect(await errorOf(['observers.overlay.type=overlya'])).toMatch(/expected an observer type \(.*\), found "overlya"; did you mean overlay\?$/);
    expect(await errorOf(['protocols.newscast.cache=4'])).toMatch(/^--set: protocols\.newscast\.type: expected a protocol type \("cyclon", .*\), found nothing \(the key is missing\)$/);
  });

  it('blames --set or --seed for a problem they caused, and the file\'s line otherwise', async () => {
    expect(await errorOf(['protocols.cyclon.cache=200'])).toBe('--set: protocols.cyclon.cache: expected a cache smaller than the network (size 100), found 200');
    expect(await errorOf([], -1)).toBe('--seed: seed: expected a value >= 0, found -1');
    const file = scenarioFile({ ...base, protocols: { cyclon: { type: 'cyclon', cache: 150, shuffle: 3 } } });
    const line = readFileSync(file, 'utf8').split('\n').findIndex((text) => text.includes('cache: 150')) + 1;
    await expect(loadScenario(file)).rejects.toThrow(`${file}:${line}: protocols.cyclon.cache: expected a cache smaller than the network (size 100), found 150`);
  });
});

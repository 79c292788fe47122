import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/index.js';
import { scenarioFile } from './helpers.js';

const base = {
  size: 100, cycles: 20,
  attributes: { region: { dist: 'discrete', values: [0, 1, 2] }, capacity: { dist: 'uniform', min: 0, max: 1 } },
  protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 4 }, average: { type: 'aggregation', function: 'count' } },
};

/** The one-line error loading `base` with these blocks gives, with the file's path as FILE. */
async function errorOf(changes: Record<string, unknown>): Promise<string> {
  const file = scenarioFile({ ...base, ...changes });
  try {
    await loadScenario(file);
  } catch (error) {
    return (error as Error).message.replace(file, 'FILE');
  }
  return 'no error';
}

const protocol = (block: Record<string, unknown>) => ({ protocols: { ...base.protocols, p: block } });
const observer = (block: Record<string, unknown>) => ({ observers: { o: block } });
const control = (block: Record<string, unknown>) => ({ controls: { c: block } });

describe('parameters that would make a run hang, exhaust memory or do nothing are refused up front', () => {
  it.each([
    // Each BFS source costs a pass over every link: more than there can be nodes is refused.
    ['a clustering sample above 10^7', observer({ type: 'overlay', sample: 4294967296 }),
      'observers.o.sample: expected a value <= 10000000, found 4294967296'],
    ['more BFS sources than nodes', observer({ type: 'overlay', sources: 4294967296 }),
      'observers.o.sources: expected at most capacity (100) sources, found 4294967296'],
    ['more slices than nodes', { protocols: { ...base.protocols, s: { type: 'slicing', method: 'ranking', attribute: 'capacity' } }, ...observer({ type: 'slicing', protocol: 's', slices: 101 }) },
      'observers.o.slices: expected at most capacity (100) slices, found 101'],
    ['an aggregation instance pooled twice', observer({ type: 'aggregation', protocol: ['average', 'average'] }),
      'observers.o.protocol.1: expected distinct instances (each pooled once), found "average" again'],
    // Per-node state sized by a parameter.
    ['a Cyclon cache as large as the network', protocol({ type: 'cyclon', cache: 100 }),
      'protocols.p.cache: expected a cache smaller than the network (size 100), found 100'],
    ['a Cyclon cache above 255', protocol({ type: 'cyclon', cache: 256 }), 'protocols.p.cache: expected a value <= 255, found 256'],
    ['a shuffle longer than the cache', protocol({ type: 'cyclon', cache: 8, shuffle: 9 }),
      'protocols.p.shuffle: expected a shuffle length of at most the cache size 8, found 9'],
    ['more join contacts than the cache holds', protocol({ type: 'cyclon', cache: 8, shuffle: 4, join: { contacts: 9 } }),
      'protocols.p.join.contacts: expected at most the cache size 8 contacts, found 9'],
    ['a Newscast cache as large as the network', protocol({ type: 'newscast', cache: 100 }),
      'protocols.p.cache: expected a cache smaller than the network (size 100), found 100'],
    ['a static degree as large as the network', protocol({ type: 'static', degree: 100 }),
      'protocols.p.degree: expected a degree smaller than the network (size 100), found 100'],
    ['a static degree above 1024', protocol({ type: 'static', degree: 4294967296 }), 'protocols.p.degree: expected a value <= 1024, found 4294967296'],
    ['more count leaders than nodes', { size: 50, ...protocol({ type: 'aggregation', function: 'count', leaders: 51 }) },
      'protocols.p.leaders: expected at most the network size (50) leaders, found 51'],
    ['more count leaders than each node can combine', { size: 100_000, ...protocol({ type: 'aggregation', function: 'count', leaders: 50_000 }) },
      'protocols.p.leaders: expected a value <= 100, found 50000'],
    // Controls that could never act.
    ['a catastrophe of no node', control({ type: 'catastrophe', at: 5, amount: 0 }), 'controls.c.amount: expected a value > 0, found 0'],
    ['a catastrophe after the run', control({ type: 'catastrophe', at: 21, amount: 0.5 }),
      'controls.c.at: expected a cycle within the run (at most 20 cycles), found 21'],
    ['an outage after the run', control({ type: 'outage', at: 30, region: 1 }),
      'controls.c.at: expected a cycle within the run (at most 20 cycles), found 30'],
    ['a partition after the run', control({ type: 'partition', start: 21, groups: [[0], [1]] }),
      'controls.c.start: expected a cycle within the run (at most 20 cycles), found 21'],
    ['a region in two partition groups', control({ type: 'partition', start: 2, groups: [[0, 1], [2, 1]] }),
      'controls.c.groups.1.1: expected each region in one group only, found 1 in groups 0 and 1'],
    ['sessions that all last 0', control({ type: 'sessions', on: { dist: 'empirical', values: [0, 0] } }),
      'controls.c.on.values: expected at least one positive session length, found only 0'],
  ])('%s', async (_what, changes, message) => {
    const error = await errorOf(changes);
    expect(error).toMatch(/^FILE:\d+: /);
    expect(error.replace(/^FILE:\d+: /, '')).toBe(message);
  });

  it('counts the event engine\'s one-off cycles in periods', async () => {
    expect(await errorOf({ engine: 'event', ...control({ type: 'catastrophe', at: 21, amount: 0.5 }) }))
      .toMatch(/controls\.c\.at: expected a cycle within the run \(at most 20 periods\), found 21$/);
  });

  it('accepts the bounds themselves', async () => {
    const file = scenarioFile({
      ...base, capacity: 120,
      protocols: { ...base.protocols, s: { type: 'slicing', method: 'ranking', attribute: 'capacity' } },
      controls: {
        disaster: { type: 'catastrophe', at: 20, amount: 1 },
        split: { type: 'partition', start: 20, end: 25, groups: [[0], [1]] },
        sessions: { type: 'sessions', on: { dist: 'empirical', values: [0, 3] } },
      },
      observers: { o: { type: 'overlay', sample: 120, sources: 120 }, s: { type: 'slicing', protocol: 's', slices: 120 } },
    });
    await expect(loadScenario(file)).resolves.toBeDefined();
  });
});

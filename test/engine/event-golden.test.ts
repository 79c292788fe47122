import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { simulate } from '../helpers.js';

/**
 * Pins the event engine's output: the hash of every observer row of two small runs,
 * with Cyclon's published rules (the default) and with its variant rules. A change
 * that alters a result must change these hashes knowingly, and say why.
 */
/** Cyclon and averaging with loss, jitter, replies slower than the timeout, and churn that reuses slots. */
const LOSSY = {
  name: 'golden-event', seed: 7, size: 400, capacity: 800, cycles: 12, engine: 'event',
  event: { period: 1000, jitter: 50, timeout: 600 },
  transport: { latency: { model: 'uniform', min: 10, max: 700 }, loss: 0.05 },
  protocols: {
    cyclon: { type: 'cyclon', cache: 20, shuffle: 5 },
    average: { type: 'aggregation', function: 'average', sampler: 'cyclon', init: { kind: 'uniform', a: 0, b: 1 } },
  },
  controls: { churn: { type: 'churn', remove: 0.05, substitute: true, every: 1, from: 4 } },
  observers: {
    average: { type: 'aggregation', protocol: 'average', every: 1 },
    overlay: { type: 'overlay', every: 3, sample: 50, sources: 1 },
    churn: { type: 'churn', every: 1 },
  },
};

/** The same protocols with nodes going offline and coming back with their ids (slots stay equal to ids). */
const SESSIONS = {
  name: 'golden-event-sessions', seed: 5, size: 300, capacity: 300, cycles: 10, engine: 'event',
  event: { period: 1000, timeout: 600 },
  transport: { latency: { model: 'uniform', min: 10, max: 400 } },
  protocols: {
    cyclon: { type: 'cyclon', cache: 20, shuffle: 5 },
    average: { type: 'aggregation', function: 'average', sampler: 'cyclon', init: { kind: 'uniform', a: 0, b: 1 } },
  },
  controls: { sessions: { type: 'sessions', on: { dist: 'exponential', mean: 4 }, off: { dist: 'exponential', mean: 2 }, unit: 1 } },
  observers: {
    average: { type: 'aggregation', protocol: 'average', every: 1 },
    churn: { type: 'churn', every: 1 },
  },
};

async function rowsHash(scenario: Record<string, unknown>): Promise<{ rows: number; hash: string; events: number }> {
  const simulation = await simulate(scenario);
  const hash = createHash('sha256');
  let rows = 0;
  simulation.run((at, observer, metric, value) => {
    rows++;
    hash.update(`${at} ${observer} ${metric} ${value}\n`);
  });
  return { rows, hash: hash.digest('hex'), events: simulation.eventLoop!.processed };
}

/** The same scenario with Cyclon's variant rules (clock ageing, duplicates checked during the merge). */
function withVariantCyclon(scenario: typeof LOSSY | typeof SESSIONS): Record<string, unknown> {
  return { ...scenario, protocols: { ...scenario.protocols, cyclon: { ...scenario.protocols.cyclon, ageing: 'clock', duplicates: 'during-merge' } } };
}

describe('event engine output (golden)', () => {
  it('is unchanged for Cyclon and averaging under loss, jitter, slow replies and churn that reuses slots', async () => {
    expect(await rowsHash(LOSSY)).toEqual({ rows: 240, hash: 'ed2961dceaf21262179ef68e586810f4f2362900559d5041985903cf7c55bcdc', events: 24474 });
    expect(await rowsHash(withVariantCyclon(LOSSY))).toEqual({ rows: 240, hash: 'ed0675de1cefbb24b666df6a7ccd87775e1ba7a0c53a6b0d20505ca860c179f5', events: 24537 });
  });

  it('is unchanged for Cyclon and averaging with nodes going offline and back (slots stay equal to ids)', async () => {
    expect(await rowsHash(SESSIONS)).toEqual({ rows: 165, hash: 'e0b6ed1e8558419a923e7485c4850e7b8c5b1b2e9bcbdb73d0f3f82acb7810be', events: 10304 });
    expect(await rowsHash(withVariantCyclon(SESSIONS))).toEqual({ rows: 165, hash: 'f393780b910044decc0bdb0f9daf02b1a7fd8f2947249bffbcb3d75ad7c7c102', events: 10273 });
  });
});

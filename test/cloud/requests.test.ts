import { describe, expect, it } from 'vitest';
import { expandRequests, meets, parseConstraint, requestsSchema } from '../../src/cloud/requests.js';

describe('constraints', () => {
  it('parses comparisons, closed intervals and sets', () => {
    expect(parseConstraint('capacity >= 2')).toMatchObject({ attribute: 'capacity', op: '>=', values: [2] });
    expect(parseConstraint(' region in [0, 3] ')).toMatchObject({ attribute: 'region', op: 'in', values: [0, 3], text: 'region in [0, 3]' });
    expect(parseConstraint('region in {0, 3}')).toMatchObject({ op: 'one of', values: [0, 3] });
    expect(parseConstraint('reliability > .9e0')).toMatchObject({ op: '>', values: [0.9] });
    for (const bad of ['capacity', 'capacity => 2', 'region in [0]', '>= 2', 'capacity >= two']) expect(parseConstraint(bad)).toBeUndefined();
  });

  it('tests values against them', () => {
    const interval = parseConstraint('region in [0, 3]')!;
    const set = parseConstraint('region in {0, 3}')!;
    expect([0, 1, 3, 4].map((x) => meets(interval, x))).toEqual([true, true, true, false]);
    expect([0, 1, 3, 4].map((x) => meets(set, x))).toEqual([true, false, true, false]);
    expect(meets(parseConstraint('capacity != 2')!, 2)).toBe(false);
  });
});

describe('expandRequests', () => {
  const spec = requestsSchema.parse([
    { at: 7, size: 50, where: ['capacity >= 2'], duration: 10, priority: 2, customer: 'alice' },
    { poisson: 0.5, from: 5, count: 6, size: { dist: 'uniform', min: 100, max: 200 }, duration: 20, customers: 3 },
    { at: 0, size: 10 },
  ]);

  it('orders by arrival, numbers by that order, and derives releases', () => {
    const requests = expandRequests(spec, 1, 100);
    expect(requests.map((r) => r.id)).toEqual(requests.map((_, i) => i));
    expect(requests[0]).toMatchObject({ at: 0, size: 10, until: Infinity, customer: 'r0', priority: 0 });
    for (const r of requests) if (r.customer.startsWith('r')) expect(r.customer).toBe(`r${r.id}`);
    const alice = requests.find((r) => r.customer === 'alice')!;
    expect(alice).toMatchObject({ at: 7, until: 17, priority: 2 });
    expect(alice.where[0].text).toBe('capacity >= 2');
    const drawn = requests.filter((r) => r.customer.startsWith('c'));
    expect(drawn).toHaveLength(6);
    for (const r of drawn) {
      expect(r.at).toBeGreaterThan(5);
      expect(r.size).toBeGreaterThanOrEqual(100);
      expect(r.size).toBeLessThanOrEqual(200);
      expect(r.until - r.at).toBe(20);
    }
    for (let i = 1; i < requests.length; i++) expect(requests[i].at).toBeGreaterThanOrEqual(requests[i - 1].at);
  });

  it('depends on the seed alone, and stops arrivals at the end of the run', () => {
    expect(expandRequests(spec, 1, 100)).toEqual(expandRequests(spec, 1, 100));
    expect(expandRequests(spec, 2, 100)).not.toEqual(expandRequests(spec, 1, 100));
    const short = expandRequests(requestsSchema.parse([{ poisson: 1, size: 5 }]), 1, 10);
    expect(short.length).toBeGreaterThan(3);
    for (const r of short) expect(r.at).toBeLessThan(10);
  });

  it('rejects a constraint it cannot read', () => {
    const result = requestsSchema.safeParse([{ at: 0, size: 1, where: ['capacity => 2'] }]);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].message).toContain('expected a constraint such as');
  });
});

import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../src/builtins.js';
import type { StateArray } from '../src/engine/state.js';
import { loadScenario } from '../src/scenario/load.js';
import { brokenProtocols, carefulRumour, crossingRumour, doubleCounting, stalePartner, undeclaredCounter, writingPrefetch } from './contract/broken.js';
import { batchedMatchesPlain, prefetchChangesNothing, respectsPartition, resumeMatchesUninterrupted, watched } from './contract/checks.js';
import type { Buildable } from './contract/runs.js';
import { controlRun, observerRun, SUBJECT, subjectsOf, type Engine, type Subject } from './contract/subjects.js';

/**
 * The plug-in contract, checked for every registered protocol (the built-ins and the
 * shipped rumour plug-in): a protocol gets these checks by being registered. Each
 * runs on a scenario derived from its registration (see contract/subjects.ts), in
 * both engines: the batched step gives what the plain step gives, prefetching changes
 * nothing, checkpoint then resume gives the uninterrupted run, and a step touches no
 * state of a node across a partition. Controls and observers get the checkpoint check.
 */

/** Every built-in type, and the rumour plug-in's (loaded as `pcsim run` loads it). */
const { registry } = await loadScenario('scenarios/rumour.yaml', { registry: builtinRegistry() });
/** Checkpoints after the first cycle, and mid-run (during the partition, with churn under way). */
const checkpointAt = [1, 6];

function expectNone(problems: readonly string[]): void {
  if (problems.length > 0) expect.fail(problems.join('\n'));
}

/** Each protocol type's subjects, or why none could be made (reported by a failing test, not at collection). */
const subjects = new Map<string, Subject[] | Error>();
for (const type of registry.protocols.keys()) {
  subjects.set(type, await subjectsOf(registry, type).catch((error: Error) => error));
}

it('covers every built-in protocol and the rumour plug-in', () => {
  expect([...subjects.keys()].sort()).toEqual([...builtinRegistry().protocols.keys(), 'rumour'].sort());
});

for (const [type, found] of subjects) {
  describe(`protocol ${type}`, () => {
    if (found instanceof Error) {
      it('can be set up for the contract checks', () => { throw found; });
      return;
    }
    for (const subject of found) {
      describe(subject.label, () => {
        const { stepAll, prefetch, prefetchPeers } = subject.capabilities;
        if (subject.engine === 'cycle') {
          it.skipIf(!stepAll)(`batched step gives what the plain step gives${stepAll ? '' : ' (no stepAll)'}`, () => {
            expectNone(batchedMatchesPlain(subject.run, SUBJECT));
          });
        } else {
          it.skipIf(!prefetch && !prefetchPeers)(`prefetch on gives what prefetch off gives${prefetch || prefetchPeers ? '' : ' (no prefetch)'}`, () => {
            expectNone(prefetchChangesNothing(subject.dense ?? subject.run, SUBJECT));
          });
        }
        it(`checkpoint (after ${checkpointAt.join(', ')}) then resume gives the uninterrupted run`, () => {
          expectNone(checkpointAt.flatMap((k) => resumeMatchesUninterrupted(subject.run, k)));
        });
        it('touches no state of a node across a partition', () => {
          expectNone(respectsPartition(subject.split, SUBJECT));
        });
      });
    }
  });
}

/** Runs for each control or observer type, by engine (an error: the run could not be set up). */
async function runsOf(types: Iterable<string>, make: (type: string, engine: Engine) => Promise<Buildable>) {
  const runs: [string, Engine, Buildable | Error][] = [];
  for (const type of types) {
    for (const engine of ['cycle', 'event'] as const) runs.push([type, engine, await make(type, engine).catch((error: Error) => error)]);
  }
  return runs;
}

describe.each([
  ['control', await runsOf(registry.controls.keys(), (type, engine) => controlRun(registry, type, engine))],
  ['observer', await runsOf(registry.observers.keys(), (type, engine) => observerRun(registry, type, engine))],
] as const)('every %s', (_, runs) => {
  it.each(runs)(`%s (%s engine): checkpoint (after ${checkpointAt.join(', ')}) then resume gives the uninterrupted run`, (_type, _engine, run) => {
    if (run instanceof Error) throw run;
    expectNone(checkpointAt.flatMap((k) => resumeMatchesUninterrupted(run, k)));
  });
});

describe('the checks', () => {
  const withBroken = registry.clone().register(carefulRumour);
  for (const definition of brokenProtocols) withBroken.register(definition);
  const subjectsFor = async (type: string) => subjectsOf(withBroken, type);
  const inEngine = (list: Subject[], engine: Engine) => list.find((subject) => subject.engine === engine)!;

  it('pass a protocol that keeps the contract, in both engines', async () => {
    const [cycle, event] = [inEngine(await subjectsFor(carefulRumour.type), 'cycle'), inEngine(await subjectsFor(carefulRumour.type), 'event')];
    expect(cycle.capabilities).toEqual({ stepAll: true, prefetch: true, prefetchPeers: false });
    expectNone([
      ...batchedMatchesPlain(cycle.run, SUBJECT),
      ...prefetchChangesNothing(event.dense ?? event.run, SUBJECT),
      ...[cycle, event].flatMap((subject) => [...resumeMatchesUninterrupted(subject.run, 6), ...respectsPartition(subject.split, SUBJECT)]),
    ]);
  });

  it('report a batched step that differs from the plain one', async () => {
    const subject = inEngine(await subjectsFor(doubleCounting.type), 'cycle');
    const problems = batchedMatchesPlain(subject.run, SUBJECT).join('\n');
    expect(problems).toMatch(/state "protocols\.subject\/steps": \d+ of 120 elements differ/);
  });

  it('report a prefetch that writes state', async () => {
    const subject = inEngine(await subjectsFor(writingPrefetch.type), 'event');
    expect(prefetchChangesNothing(subject.dense ?? subject.run, SUBJECT).join('\n')).toMatch(/state "protocols\.subject\/heat": \d+ of 120 elements differ/);
  });

  it('report a protocol that writes into a peer across a partition, in both engines', async () => {
    for (const subject of await subjectsFor(crossingRumour.type)) {
      const problems = respectsPartition(subject.split, SUBJECT);
      expect(problems.join('\n'), subject.label).toMatch(/^wrote protocols\.subject\/informed of an unreachable node \d+ times, e\.g\. at cycle \d+, slot \d+ \(group (\d)\) wrote \[\d+\], slot \d+'s \(group (?!\1)\d\)$/m);
    }
  });

  it('report a protocol that writes into a node gone offline or away, in both engines', async () => {
    for (const subject of await subjectsFor(stalePartner.type)) {
      const problems = respectsPartition(subject.split, SUBJECT);
      expect(problems.join('\n'), subject.label).toMatch(/^wrote protocols\.subject\/informed of an offline or departed node \d+ times, e\.g\. at cycle \d+, slot \d+ wrote \[\d+\], slot \d+'s \((offline|gone)\)$/m);
      expect(problems.join('\n'), subject.label).not.toMatch(/unreachable/);
    }
  });

  it('report state kept outside the declarations, which a resumed run loses', async () => {
    const subject = inEngine(await subjectsFor(undeclaredCounter.type), 'cycle');
    expect(resumeMatchesUninterrupted(subject.run, 6).join('\n')).toMatch(/resumed after 6, against uninterrupted: state "protocols\.subject\/numbered": \d+ of 120 elements differ/);
  });

  it('watch every element access of a per-slot array, including through its methods', () => {
    const touched: string[] = [];
    const array = watched(new Int32Array(12), 3, (index, slot, how) => touched.push(`${how} ${index}@${slot}`)) as StateArray;
    array[4] = 7;
    void array[11];
    array.fill(1, 6, 9);
    array.set([5, 5], 1);
    array.copyWithin(9, 0, 2);
    void array.at(-2);
    void array.subarray(3, 5);
    expect(touched).toEqual(['wrote 4@1', 'read 11@3', 'wrote 6@2', 'wrote 1@0', 'read 0@0', 'wrote 9@3', 'read 10@3', 'read 3@1']);
    expect([array.length, array.byteLength, array.buffer.byteLength, array.constructor.name]).toEqual([12, 48, 48, 'Int32Array']);
    expect(touched).toHaveLength(8);
  });
});

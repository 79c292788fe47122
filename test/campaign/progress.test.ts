import { describe, expect, it } from 'vitest';
import { CampaignProgress } from '../../src/campaign/progress.js';
import type { PlannedRun } from '../../src/campaign/plan.js';
import type { RunOutcome } from '../../src/campaign/sweep.js';

describe("a sweep's progress line", () => {
  it('counts runs done, running and failed, and redraws one line', () => {
    let text = '';
    const stream = { isTTY: true, write: (chunk: string) => { text += chunk; return true; } } as unknown as NodeJS.WriteStream;
    const progress = new CampaignProgress(stream, 3, 2);
    progress.started('/nonexistent/a', 10);
    progress.started('/nonexistent/b', 10);
    expect(text.split('\r\x1b[2K').at(-1)).toBe('runs 0/3 done (2 done before), 2 running, 0 failed | ETA -');
    progress.ended('/nonexistent/a');
    progress.ended('/nonexistent/b');
    const outcomes = new Map<PlannedRun, RunOutcome>([
      [{} as PlannedRun, { kind: 'completed', resumed: false }],
      [{} as PlannedRun, { kind: 'failed', message: 'x' }],
    ]);
    progress.update(outcomes);
    expect(text.split('\r\x1b[2K').at(-1)).toMatch(/^runs 1\/3 done \(2 done before\), 0 running, 1 failed \| ETA \d+s$/);
    progress.setNote('SIGINT: stopping');
    expect(text.split('\r\x1b[2K').at(-1)).toMatch(/\| SIGINT: stopping$/);
    progress.stop();
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('\n\r');
  });
});

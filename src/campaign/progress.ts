import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestName } from '../output/manifest.js';
import type { PlannedRun } from './plan.js';
import type { RunOutcome } from './sweep.js';
import { duration } from '../output/progress.js';

/**
 * The one progress line of `pcsim sweep` on a terminal: runs done, running and
 * failed, and an ETA from the share of the campaign's cycles done so far (each
 * running run's share read from its manifest, which the run rewrites as it goes).
 */
export class CampaignProgress {
  private readonly running = new Map<string, number>();
  private readonly since = performance.now();
  private done = 0;
  private failed = 0;
  private note = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly stream: NodeJS.WriteStream, private readonly total: number, private readonly skipped: number) {
    this.timer = setInterval(() => this.draw(), 500);
    this.draw();
  }

  started(dir: string, cycles: number): void {
    this.running.set(dir, cycles);
    this.draw();
  }

  ended(dir: string): void {
    this.running.delete(dir);
  }

  update(outcomes: ReadonlyMap<PlannedRun, RunOutcome>): void {
    const kinds = [...outcomes.values()].map((outcome) => outcome.kind);
    this.done = kinds.filter((kind) => kind === 'completed').length;
    this.failed = kinds.filter((kind) => kind === 'failed' || kind === 'interrupted').length;
    this.draw();
  }

  setNote(note: string): void {
    this.note = note;
    this.draw();
  }

  stop(): void {
    clearInterval(this.timer);
    this.draw();
    this.stream.write('\n');
  }

  private draw(): void {
    let share = this.done + this.failed;
    for (const [dir, cycles] of this.running) share += Math.min(1, cyclesDone(dir) / Math.max(1, cycles));
    const elapsed = (performance.now() - this.since) / 1000;
    const eta = share > 0 && share < this.total ? duration(elapsed * (this.total - share) / share) : '-';
    const skipped = this.skipped > 0 ? ` (${this.skipped} done before)` : '';
    const note = this.note ? ` | ${this.note}` : '';
    this.stream.write(`\r\x1b[2Kruns ${this.done}/${this.total} done${skipped}, ${this.running.size} running, ${this.failed} failed | ETA ${eta}${note}`);
  }
}

/** Cycles a run has completed, as its manifest says (0 while it has none). */
function cyclesDone(dir: string): number {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, manifestName), 'utf8')) as { cycles_completed?: unknown };
    return typeof manifest.cycles_completed === 'number' ? manifest.cycles_completed : 0;
  } catch {
    return 0;
  }
}


import { SingleBar } from 'cli-progress';
import type { SetupProgress } from '../engine/simulation.js';

/**
 * The progress display of `pcsim run` on a terminal: a line while the run is built
 * (the step under way and the time since the build began, redrawn every 250 ms),
 * then a bar of cycles (periods in the event engine) whose rate and ETA count from
 * the end of setup, so a long build does not make the run look slow.
 */
export class ProgressDisplay {
  private bar?: SingleBar;
  private timer?: NodeJS.Timeout;
  private lineOpen = false;
  private runningSince = 0;
  private note = '';
  private completed: () => number = () => 0;
  /** The cycle the run (re)started from: the rate counts the cycles run since. */
  private from = 0;
  /** While building: what is built, since when, and the step under way. */
  private build?: { readonly size: number; readonly since: number; readonly setup: () => SetupProgress | undefined };

  constructor(private readonly stream: NodeJS.WriteStream) {}

  /** The terminal is gone (SIGHUP): stop drawing, without writing anything more. */
  abandon(): void {
    this.build = undefined;
    clearInterval(this.timer);
    this.bar = undefined;
    this.lineOpen = false;
  }

  /** `setup`: the step of the build under way (see SimulationOptions.onSetup), if known. */
  building(size: number, setup: () => SetupProgress | undefined = () => undefined): void {
    this.stream.write(buildingLine(size));
    this.lineOpen = true;
    this.build = { size, since: performance.now(), setup };
    this.timer = setInterval(() => this.drawBuilding(), 250);
  }

  private drawBuilding(): void {
    if (!this.build) return;
    const { size, since, setup } = this.build;
    const step = setup();
    const share = step && step.total > 0 ? ` ${Math.floor((100 * step.done) / step.total)}%` : '';
    const at = step ? ` ${step.step}${share},` : '';
    this.stream.write(`\r\x1b[2K${buildingLine(size)}${at} ${duration((performance.now() - since) / 1000)}${this.note}`);
    this.lineOpen = true;
  }

  /** Ends the building line's redraws. */
  private endBuilding(): void {
    if (!this.build) return;
    clearInterval(this.timer);
    this.build = undefined;
  }

  /** `from`: the cycle a resumed run starts at. */
  running(total: number, engine: 'cycle' | 'event', completed: () => number, from = 0): void {
    const unit = engine === 'event' ? 'period' : 'cycle';
    this.endBuilding();
    this.completed = completed;
    this.from = from;
    this.runningSince = performance.now();
    this.bar = new SingleBar({
      format: `${unit} {value}/{total} | {speed} ${unit}s/s | ETA {remaining}{note}`,
      stream: this.stream, hideCursor: true,
    });
    // Starting on the "building" line overwrites it.
    this.bar.start(total, completed(), { speed: '-', remaining: '-', note: '' });
    this.lineOpen = false;
    this.timer = setInterval(() => this.update(), 250);
  }

  /** Shown after the bar until the run ends (say, that a signal is being handled). */
  setNote(note: string): void {
    this.note = note ? ` | ${note}` : '';
    if (this.bar) this.update();
    else if (this.build) this.drawBuilding();
    else if (this.lineOpen) this.stream.write(` ${note}`);
  }

  /** A line of its own above the bar (a warning), the bar drawn again below it. */
  warn(line: string): void {
    if (this.bar) {
      this.stream.write(`\r\x1b[2K${line}\n`);
      this.update();
    } else {
      this.stream.write(`${this.lineOpen ? '\n' : ''}${line}\n`);
      this.lineOpen = false;
    }
  }

  stop(): void {
    this.build = undefined;
    clearInterval(this.timer);
    if (this.bar) {
      this.update();
      this.bar.stop();
      this.bar = undefined;
    } else if (this.lineOpen) {
      this.stream.write('\n');
      this.lineOpen = false;
    }
  }

  private update(): void {
    const bar = this.bar!;
    const done = this.completed();
    const rate = (done - this.from) / ((performance.now() - this.runningSince) / 1000);
    const known = done > this.from && Number.isFinite(rate);
    bar.update(done, {
      speed: known ? rate.toFixed(2) : '-',
      remaining: known ? duration((bar.getTotal() - done) / rate) : '-',
      note: this.note,
    });
  }
}

const buildingLine = (size: number) => `building ${size.toLocaleString('en-US')} nodes...`;

/** 42s, 3m 05s, 2h 07m. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
}

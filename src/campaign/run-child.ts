// One run of a campaign: the `pcsim run` (or `pcsim resume`) command, in a process the
// sweep forked, which it keeps following. Asked by the sweep to stop (the sweep got a
// signal), or left behind by it (the sweep was killed: the IPC channel closes), it
// stops as on that signal: after the current cycle, with a checkpoint to resume from.
import { constants } from 'node:os';
import { runCli } from '../cli.js';

type Forwarded = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const forwarded: readonly Forwarded[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Signals this process got directly. A Ctrl-C reaches the whole process group, so the
 * run may get the sweep's signal twice (itself, and from the sweep): a second signal
 * would end it at once, without its checkpoint, so the sweep's copy is dropped when
 * the same number came directly.
 */
let received = 0;
for (const signal of forwarded) {
  process.on(signal, () => {
    received++;
    // Only this listener: the run has not started (pcsim's own handlers come with it), nothing is written yet.
    if (process.listenerCount(signal) === 1) process.exit(128 + constants.signals[signal]);
  });
}

/** How long a signal from the group may take to arrive after the sweep's own message about it. */
const sameSignalWindowMs = 300;

process.on('message', (message: { type?: string; signal?: Forwarded; count?: number }) => {
  if (message?.type !== 'signal' || !forwarded.includes(message.signal!) || typeof message.count !== 'number') return;
  const { signal, count } = message;
  setTimeout(() => {
    if (received < count) process.kill(process.pid, signal);
  }, sameSignalWindowMs).unref();
});
process.on('disconnect', () => {
  if (received === 0) process.kill(process.pid, 'SIGTERM');
});
// The channel alone must not keep the process alive.
process.channel?.unref();

runCli();

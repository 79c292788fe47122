import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeError, userFrame } from '../src/engine/describe-error.js';

/** An Error whose stack runs through the given frames, innermost first. */
function thrownThrough(message: string, ...frames: string[]): Error {
  const error = new Error(message);
  error.stack = [`Error: ${message}`, ...frames.map((frame) => `    at ${frame}`)].join('\n');
  return error;
}

const engine = `Simulation.runCycle (file://${resolve('dist/engine/simulation.js')}:206:34)`;
const source = `advance (${resolve('src/engine/simulation.ts')}:160:5)`;

describe('describeError', () => {
  it('names the first frame outside pcsim: the plug-in\'s file and line', () => {
    const error = thrownThrough('no peer', 'helper (/home/me/plugin.ts:31:11)', 'Object.step (/home/me/plugin.ts:12:3)', engine, source);
    expect(describeError(error)).toBe('no peer (at /home/me/plugin.ts:31)');
    expect(userFrame(thrownThrough('x', engine, 'file:///home/me/p.mjs:4:9', source))).toEqual({ file: '/home/me/p.mjs', line: 4 });
  });

  it('skips Node\'s internals and dependencies, and reads tsx\'s URLs as paths', () => {
    const error = thrownThrough('bad', 'Array.forEach (<anonymous>)', 'node:internal/modules/esm/module_job:325:25',
      'parse (/home/me/node_modules/zod/v4/core.js:3:1)', 'async file:///home/me/my%20plugin.ts?tsx-namespace=1234:7:2');
    expect(describeError(error)).toBe('bad (at /home/me/my plugin.ts:7)');
  });

  it('names the file, not the compiled line, of a plug-in that tsx hands Node as a data: URL', () => {
    const code = encodeURIComponent('(()=>{require("pcsim");function boom(){throw new Error("x")}})()');
    const error = thrownThrough('plugin boom', `boom (data:text/javascript,${code}?filePath=%2Fhome%2Fme%2Fbase.ts%3Fnamespace%3D42:2:1061)`, engine);
    expect(describeError(error)).toBe('plugin boom (in /home/me/base.ts)');
  });

  it('gives no location when only pcsim\'s own code is on the stack (a bug in pcsim)', () => {
    const error = thrownThrough('index out of range', engine, source);
    expect(userFrame(error)).toBeUndefined();
    expect(describeError(error)).toBe('index out of range');
  });

  it('keeps one line of the message, capped, with the error\'s name unless a plain Error', () => {
    const typeError = new TypeError("Cannot read properties of undefined (reading 'x')");
    typeError.stack = `TypeError: ${typeError.message}\n    at step (/home/me/p.ts:3:1)`;
    expect(describeError(typeError)).toBe("TypeError: Cannot read properties of undefined (reading 'x') (at /home/me/p.ts:3)");
    expect(describeError(thrownThrough('first line\nsecond line'))).toBe('first line');
    const long = describeError(thrownThrough(`data:text/javascript,${'%20'.repeat(3000)}`));
    expect(long.length).toBeLessThanOrEqual(300);
    expect(long.endsWith('…')).toBe(true);
  });

  it('locates a TypeScript syntax error from the compiler\'s message', () => {
    const error = new Error('Transform failed with 1 error:\n/home/me/p.ts:2:10: ERROR: Unexpected ";"');
    expect(describeError(error)).toBe('SyntaxError: Unexpected ";" (at /home/me/p.ts:2)');
  });

  it('describes any other thrown value in one line, saying it has no location', () => {
    expect(describeError(undefined)).toBe('undefined was thrown instead of an Error, so there is no file and line to show');
    expect(describeError(null)).toBe('null was thrown instead of an Error, so there is no file and line to show');
    expect(describeError(42)).toMatch(/^42 was thrown/);
    expect(describeError('oops')).toMatch(/^'oops' was thrown/);
    expect(describeError({ code: 7 })).toMatch(/^\{ code: 7 \} was thrown/);
    expect(describeError({ big: 'x'.repeat(500) }).length).toBeLessThan(200);
  });
});

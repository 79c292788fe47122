import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

/**
 * Errors as one line for the user. An error from a plug-in (or anything else that
 * is not pcsim's own code) is named by the first stack frame outside pcsim, so the
 * user sees `message (at plugin.ts:12)` rather than a stack through the engine;
 * tsx's source maps make that the .ts line.
 */

/** Longest message shown: enough for any real message, never a dump of transpiled source. */
const MAX_MESSAGE = 300;

/** pcsim's own code: its src/ (tests, tsx) and dist/ folders, beside this file's folder. */
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
const ownFolders = ['src', 'dist'].map((folder) => `${packageRoot}${folder}${sep}`);

/** A file and line in a stack trace, as shown to the user. */
export interface SourceLine {
  readonly file: string;
  /** Undefined when the stack names only compiled code (a CommonJS plug-in through tsx). */
  readonly line?: number;
}

const place = (where: SourceLine) => (where.line === undefined ? `in ${where.file}` : `at ${where.file}:${where.line}`);

/** Any thrown value as one line: the message, and where it was thrown when that is outside pcsim. */
export function describeError(error: unknown): string {
  if (!isErrorLike(error)) return `${describeThrown(error)} was thrown instead of an Error, so there is no file and line to show`;
  const located = buildErrorLocation(error);
  const message = located?.message ?? oneLine(error);
  const where = located?.where ?? userFrame(error);
  return where ? `${message} (${place(where)})` : message;
}

/**
 * The first frame of the error's stack in code that is not pcsim's (nor Node's, nor
 * a dependency's): the user's plug-in. Undefined when there is none, which for an
 * Error thrown inside pcsim means a bug in pcsim.
 */
export function userFrame(error: unknown): SourceLine | undefined {
  if (!isErrorLike(error) || typeof error.stack !== 'string') return undefined;
  for (const text of error.stack.split('\n')) {
    if (!/^\s+at /.test(text)) continue;
    const frame = parseFrame(text);
    if (frame && !isOwnCode(frame.file)) return { file: displayPath(frame.file), line: frame.line };
  }
  return undefined;
}

interface ErrorLike { readonly name: string; readonly message: string; readonly stack?: string }

function isErrorLike(value: unknown): value is ErrorLike {
  if (value instanceof Error) return true;
  // An Error from another realm (vm, worker) is not instanceof Error here.
  return typeof value === 'object' && value !== null
    && typeof (value as ErrorLike).message === 'string' && typeof (value as ErrorLike).name === 'string';
}

/** `undefined`, `null`, `42`, `"text"`, `{ a: 1 }`: short enough for one line. */
function describeThrown(value: unknown): string {
  const text = inspect(value, { breakLength: Infinity, depth: 1, maxArrayLength: 5, maxStringLength: 80 });
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

/** The error's name (unless a plain Error) and the first non-empty line of its message, capped. */
function oneLine(error: ErrorLike): string {
  const first = error.message.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
  const capped = first.length > MAX_MESSAGE ? `${first.slice(0, MAX_MESSAGE - 1)}…` : first;
  const name = error.name && error.name !== 'Error' ? error.name : '';
  if (!capped) return name || 'an Error with no message';
  return name ? `${name}: ${capped}` : capped;
}

/**
 * A plug-in that cannot be compiled: esbuild (through tsx) lists its errors in the
 * message, each as `file:line:column: ERROR: text`; Node's own SyntaxError for a
 * CommonJS file puts `file:line` first in its stack.
 */
function buildErrorLocation(error: ErrorLike): { where: SourceLine; message: string } | undefined {
  for (const text of error.message.split('\n')) {
    const esbuild = /^(.+?):(\d+):\d+: ERROR: (.+)$/.exec(text);
    const file = esbuild && toPath(esbuild[1]);
    if (file) return { where: { file: displayPath(file), line: Number(esbuild[2]) }, message: oneLine({ name: 'SyntaxError', message: esbuild[3] }) };
  }
  if (error.name === 'SyntaxError' && typeof error.stack === 'string') {
    const match = /^(.+):(\d+)$/.exec(error.stack.split('\n')[0]);
    const file = match && toPath(match[1]);
    if (file && !isOwnCode(file)) return { where: { file: displayPath(file), line: Number(match[2]) }, message: oneLine(error) };
  }
  return undefined;
}

/** `    at fn (/a/b.ts:12:5)`, `    at file:///a/b.mjs:3:1`, `    at async fn (...)` -> file and line. */
function parseFrame(text: string): { file: string; line?: number } | undefined {
  const body = text.trim().slice('at '.length).replace(/^async /, '');
  // The location is in the first parenthesis that opens one (it may hold parentheses itself: data: URLs).
  const open = body.endsWith(')') ? body.search(/\((?:file:|data:|node:|\/|[A-Za-z]:\\)/) : -1;
  const location = open >= 0 ? body.slice(open + 1, -1) : body;
  const match = /^(.+):(\d+):\d+$/s.exec(location);
  if (!match) return undefined;
  const file = toPath(match[1]);
  // A data: URL's line is in the compiled code, which the user never saw.
  return file ? { file, line: match[1].startsWith('data:') ? undefined : Number(match[2]) } : undefined;
}

/** A stack location as a file path; undefined for Node's internals, eval and the like. */
function toPath(location: string): string | undefined {
  if (location.startsWith('file:')) {
    try {
      return fileURLToPath(location.replace(/[?#].*$/, ''));
    } catch {
      return undefined;
    }
  }
  // tsx hands Node some modules as data: URLs that carry the real path.
  if (location.startsWith('data:')) {
    const filePath = /[?&]filePath=([^&]+)/.exec(location)?.[1];
    return filePath ? decodeURIComponent(filePath).replace(/[?#].*$/, '') : undefined;
  }
  return isAbsolute(location) ? location.replace(/[?#].*$/, '') : undefined;
}

function isOwnCode(file: string): boolean {
  return ownFolders.some((folder) => file.startsWith(folder)) || file.includes(`${sep}node_modules${sep}`);
}

/** Relative to the working folder when inside it (shorter), else absolute. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** The stack of an error thrown by pcsim's own code (not a plug-in's, nor a failure of the system such as a full disk): a bug. */
export function internalStack(error: unknown): string | undefined {
  if (!(error instanceof Error) || userFrame(error)) return undefined;
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (typeof code === 'string' && typeof syscall === 'string') return undefined;
  return error.stack ?? error.message;
}

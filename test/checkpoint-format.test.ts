import { createHash } from 'node:crypto';
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { Section } from '../src/engine/state.js';
import { checkpointFormat, openCheckpoint, writeCheckpoint, type CheckpointRun } from '../src/output/checkpoint.js';
import { tempDir } from './helpers.js';

const run: CheckpointRun = {
  pcsim: '1.2.3', build: 'ab'.repeat(32), node: process.version, run_id: 'abcd1234', file: '/somewhere/x.yaml', set: ['size=50', 'a.b={c: 1}'],
  seed: 7, inputs: { '/somewhere/p.mjs': 'ff'.repeat(32), '/somewhere/gone.avt': null }, scenario: { name: 'x', size: 50 },
  cycle: 12, simulated_time_ms: 0, events_processed: 0, csv_bytes: 4321, written: '2024-01-01T00:00:00.000Z',
};

const bytesOf = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
/** Sections of every shape: typed arrays of odd byte lengths, empty, a view into a larger buffer, a serialised value. */
function sections(): Section[] {
  const big = new Float64Array(100).map((_, i) => i / 3);
  return [
    { name: 'engine/run', type: 'value', bytes: serialize({ cycle: 12, stopped: false, nan: Number.NaN }) },
    { name: 'protocols.a/flags', type: 'Uint8Array', bytes: bytesOf(new Uint8Array([1, 2, 3])) },
    { name: 'protocols.a/empty', type: 'Int32Array', bytes: bytesOf(new Int32Array(0)) },
    { name: 'protocols.a/values', type: 'Float64Array', bytes: bytesOf(big.subarray(10, 15)) },
    { name: 'protocols.a/ids', type: 'Int32Array', bytes: bytesOf(new Int32Array([-1, 5, 2 ** 31 - 1])) },
  ];
}

function written(): { dir: string; path: string } {
  const dir = tempDir();
  writeCheckpoint(dir, run, sections());
  return { dir, path: join(dir, 'checkpoint') };
}

describe('checkpoint files', () => {
  it('give back the run and every section byte for byte, aligned', () => {
    const { dir, path } = written();
    const file = openCheckpoint(path, { pcsim: '1.2.3', build: run.build });
    expect(file.header).toMatchObject({ ...run, format: checkpointFormat });
    const back = file.readSections();
    expect(back.map(({ name, type }) => ({ name, type }))).toEqual(sections().map(({ name, type }) => ({ name, type })));
    back.forEach((section, i) => expect(Buffer.from(section.bytes).equals(Buffer.from(sections()[i].bytes))).toBe(true));
    for (const entry of file.header.sections) expect(entry.offset % 8).toBe(0);
    file.header.sections.forEach((entry, i) => expect(entry.sha256).toBe(createHash('sha256').update(sections()[i].bytes).digest('hex')));
    expect(existsSync(join(dir, 'checkpoint.tmp'))).toBe(false);
  });

  it('start with the magic, the format version and the header\'s SHA-256, and end with the end marker and the length', () => {
    const { path } = written();
    const data = readFileSync(path);
    expect(data.subarray(0, 8).toString('latin1')).toBe('PCSIMCKP');
    expect(data.readUInt32LE(8)).toBe(2);
    const header = data.subarray(48, 48 + data.readUInt32LE(12));
    expect(JSON.parse(header.toString()).format).toBe(2);
    expect(data.subarray(16, 48).equals(createHash('sha256').update(header).digest())).toBe(true);
    expect(data.subarray(-16, -8).toString('latin1')).toBe('PCSIMEND');
    expect(Number(data.readBigUInt64LE(data.length - 8))).toBe(data.length);
  });

  it('replace the previous checkpoint whole, and ignore a temporary file a killed writer left', () => {
    const { dir, path } = written();
    writeFileSync(join(dir, 'checkpoint.tmp'), 'half a checkpoint');
    writeCheckpoint(dir, { ...run, cycle: 13 }, sections());
    expect(openCheckpoint(path).header.cycle).toBe(13);
    expect(existsSync(join(dir, 'checkpoint.tmp'))).toBe(false);
  });

  it('are refused when they are not checkpoints', () => {
    const dir = tempDir();
    for (const [name, text] of [['empty', ''], ['text', 'cycle,observer\n'], ['short', 'PCSIM']] as const) {
      writeFileSync(join(dir, name), text);
      expect(() => openCheckpoint(join(dir, name))).toThrow(`${join(dir, name)}: is not a pcsim checkpoint`);
    }
    expect(() => openCheckpoint(dir)).toThrow(`${dir}: is not a pcsim checkpoint (not a plain file)`);
    expect(() => openCheckpoint(join(dir, 'none'))).toThrow(`${join(dir, 'none')}: not found`);
  });

  it('are refused in a format version this pcsim does not read', () => {
    const { path } = written();
    const data = readFileSync(path);
    for (const version of [1, 3]) {
      data.writeUInt32LE(version, 8);
      writeFileSync(path, data);
      expect(() => openCheckpoint(path)).toThrow(`${path}: has checkpoint format version ${version}; this pcsim reads version 2`);
    }
  });

  it('are refused when cut short anywhere, or with bytes past their end', () => {
    const { path } = written();
    const whole = readFileSync(path);
    for (const length of [12, 20, 200, whole.length - 100, whole.length - 1]) {
      writeFileSync(path, whole);
      truncateSync(path, length);
      expect(() => openCheckpoint(path), `cut at ${length}`).toThrow(/: is truncated \(/);
    }
    writeFileSync(path, Buffer.concat([whole, Buffer.from('x')]));
    expect(() => openCheckpoint(path)).toThrow(`${path}: is damaged (1 bytes after its end marker)`);
  });

  it('are refused when damaged: the end marker, the header or its checksum', () => {
    const { path } = written();
    const whole = readFileSync(path);
    const damaged = (at: number) => {
      const copy = Buffer.from(whole);
      copy[at] ^= 1;
      writeFileSync(path, copy);
    };
    damaged(whole.length - 12);
    expect(() => openCheckpoint(path)).toThrow(`${path}: is damaged (no end marker where its header puts it)`);
    for (const at of [20, 48, 48 + whole.readUInt32LE(12) - 1]) {
      damaged(at);
      expect(() => openCheckpoint(path), `byte ${at}`).toThrow(`${path}: is damaged (its header does not match its checksum)`);
    }
    // A header that is not JSON, with a checksum that matches it.
    const badJson = Buffer.from(whole);
    badJson[48] = '!'.charCodeAt(0);
    createHash('sha256').update(badJson.subarray(48, 48 + badJson.readUInt32LE(12))).digest().copy(badJson, 16);
    writeFileSync(path, badJson);
    expect(() => openCheckpoint(path)).toThrow(`${path}: is damaged (its header is not JSON)`);
  });

  it('are refused when a section is damaged, as its sections are read, and then closed', () => {
    const { path } = written();
    const whole = readFileSync(path);
    const header = openCheckpoint(path);
    const { offset } = header.header.sections[3];
    header.close();
    const dataStart = Math.ceil((48 + whole.readUInt32LE(12)) / 8) * 8;
    const copy = Buffer.from(whole);
    copy[dataStart + offset + 5] ^= 0x10;
    writeFileSync(path, copy);
    const file = openCheckpoint(path);
    expect(() => file.readSections()).toThrow(`${path}: is damaged (section "protocols.a/values" does not match its checksum)`);
    expect(() => file.readSections()).toThrow('its sections were read already, or it was closed');
  });

  it('are read from the file that was opened and checked, even if another replaces it meanwhile', () => {
    const { dir, path } = written();
    const file = openCheckpoint(path);
    writeCheckpoint(dir, { ...run, cycle: 99 }, [{ name: 'other', type: 'Uint8Array', bytes: new Uint8Array([9]) }]);
    expect(file.readSections().map((section) => section.name)).toEqual(sections().map((section) => section.name));
    expect(openCheckpoint(path).header.cycle).toBe(99);
  });

  it('are refused when another version or build of pcsim wrote them, naming both', () => {
    const { path } = written();
    expect(() => openCheckpoint(path, { pcsim: '1.2.4', build: run.build })).toThrow(`${path}: was written by pcsim 1.2.3; this is pcsim 1.2.4, which cannot resume it (use pcsim 1.2.3)`);
    expect(() => openCheckpoint(path, { pcsim: '1.2.3', build: 'cd'.repeat(32) }))
      .toThrow(`${path}: was written by another build of pcsim 1.2.3 (build abababababab; this is build cdcdcdcdcdcd), which alone can resume it`);
  });
});

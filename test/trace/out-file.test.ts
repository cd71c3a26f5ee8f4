// The trace's file writer: text of any size, in order, across chunks, mode as asked; the file
// appears only when complete and an aborted one leaves nothing.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChunkedFileWriter } from '../../src/trace/out-file.js';
import { tempDir } from '../helpers/mpi.js';

const dir = tempDir('trace-out');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ChunkedFileWriter', () => {
  it('writes small and large pieces (multi-byte characters too) in order, renamed into place at commit', async () => {
    const file = path.join(dir, 'a.json');
    const w = await ChunkedFileWriter.create(file, 0o640);
    const pieces: string[] = [];
    for (let i = 0; i < 60_000; i++) pieces.push(`{"i":${i},"s":"é${'x'.repeat(i % 50)}"},`);
    pieces.splice(30_000, 0, 'ü'.repeat(3 << 20)); // a piece larger than a chunk
    for (const p of pieces) await w.write(p);
    expect(fs.existsSync(file)).toBe(false);
    await w.commit();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toBe(pieces.join(''));
    expect(w.bytes).toBe(Buffer.byteLength(text));
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(dir)).toEqual(['a.json']);
  });

  it('abort leaves no file; a missing directory is an error at create', async () => {
    const file = path.join(dir, 'b.json');
    const w = await ChunkedFileWriter.create(file, 0o600);
    await w.write('partial');
    await w.abort();
    expect(fs.readdirSync(dir).filter((n) => n.includes('b.json'))).toEqual([]);
    await expect(ChunkedFileWriter.create(path.join(dir, 'no', 'c.json'), 0o600)).rejects.toThrow(/ENOENT/);
  });
});

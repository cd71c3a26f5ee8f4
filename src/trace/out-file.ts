// Writing a large file in chunks, atomically: text is encoded into 1 MiB chunks, each awaited
// on the disk before the next is filled (the producer waits: memory stays at one chunk), into a
// temporary file beside the target that is renamed over it at the end. Readers never see half a
// file, and a link planted at the name is replaced, never followed (as report files, report-file.ts).
import crypto from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

const CHUNK_BYTES = 1 << 20;

export class ChunkedFileWriter {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  /** bytes written so far */
  bytes = 0;

  private constructor(
    private readonly fh: fs.FileHandle,
    private readonly tmp: string,
    readonly file: string,
  ) {}

  /** Starts a file that will replace `file` (created `mode`, whatever the umask). */
  static async create(file: string, mode: number): Promise<ChunkedFileWriter> {
    const tmp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`,
    );
    const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
    try {
      await fh.chmod(mode);
    } catch (e) {
      await fh.close();
      await fs.rm(tmp, { force: true });
      throw e;
    }
    return new ChunkedFileWriter(fh, tmp, file);
  }

  /** Adds text; returns a promise to await when a chunk is being written, else undefined. Await it
   * before the next call. */
  write(text: string): Promise<void> | undefined {
    // encoded straight into the chunk (joining many small strings first cost a third of the time)
    if (text.length * 3 <= CHUNK_BYTES - this.used) {
      this.used += this.buf.write(text, this.used);
      return undefined;
    }
    return this.flush().then(() => {
      if (text.length * 3 <= CHUNK_BYTES) this.used = this.buf.write(text, 0);
      else return this.writeAll(Buffer.from(text));
    });
  }

  private async flush(): Promise<void> {
    await this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private async writeAll(b: Buffer): Promise<void> {
    for (let off = 0; off < b.length;) {
      const { bytesWritten } = await this.fh.write(b, off, b.length - off);
      off += bytesWritten;
    }
    this.bytes += b.length;
  }

  /** Writes what is left and renames the file into place. */
  async commit(): Promise<void> {
    await this.flush();
    await this.fh.close();
    await fs.rename(this.tmp, this.file);
  }

  /** Drops the temporary file (after an error). */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await fs.rm(this.tmp, { force: true });
  }
}

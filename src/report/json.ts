// JSON text in steps: the same bytes as JSON.stringify(value) (no replacer, no indent), written
// piece by piece with a checkpoint every few thousand values, so that the tens of MB of a large
// job's matrices do not hold the event loop in one call. Arrays of numbers (matrix rows) are
// written with one loop each rather than value by value.
import type { Steps } from '../monitor/steps.js';

/** Values written between two checkpoints (a 2048-rank matrix row is about one). */
const CHECK_EVERY = 4096;

/** Numbers of a long array written between two checkpoints (the sparse matrices' arrays). */
const ROW_CHUNK = 1 << 16;

/** `1,2,3` for a[from..to) of an array of numbers (non-finite ones as null, like JSON.stringify); null when an element is not a number. */
function numberList(a: readonly unknown[], from: number, to: number): string | null {
  let finite = true;
  for (let i = from; i < to; i++) {
    const v = a[i];
    if (typeof v !== 'number') return null;
    if (!Number.isFinite(v)) finite = false;
  }
  const part = from === 0 && to === a.length ? a : a.slice(from, to);
  // join writes each number as String(n), as JSON does, into one flat string (a string built with
  // += would be a rope of P pieces, flattened later at a much higher cost)
  return (finite ? part : part.map((v) => (Number.isFinite(v) ? v : 'null'))).join(',');
}

/** Every element a number (holes are not: JSON writes them as null). */
function allNumbers(a: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'number') return false;
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/** What JSON.stringify drops from objects (and writes as null in arrays). */
const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** JSON.stringify(value) in steps (value as JSON.stringify takes it: plain data, toJSON honoured). */
export function* jsonSteps(value: unknown): Steps<string> {
  const out: string[] = [];
  let since = 0;
  function* walk(v: unknown): Steps<void> {
    if (++since >= CHECK_EVERY) {
      since = 0;
      yield;
    }
    if (Array.isArray(v)) {
      // an array of numbers in one piece, or in pieces of ROW_CHUNK with a checkpoint after each
      const row = v.length <= ROW_CHUNK ? numberList(v, 0, v.length) : null;
      if (row === null && v.length > ROW_CHUNK && allNumbers(v)) {
        out.push('[');
        for (let i = 0; i < v.length; i += ROW_CHUNK) {
          out.push((i ? ',' : '') + numberList(v, i, Math.min(v.length, i + ROW_CHUNK))!);
          since = 0;
          yield;
        }
        out.push(']');
        return;
      }
      if (row !== null) {
        out.push('[' + row + ']');
        since += v.length;
        return;
      }
      out.push('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(',');
        const e: unknown = v[i];
        if (skipped(e)) out.push('null');
        else yield* walk(e);
      }
      out.push(']');
    } else if (isPlainObject(v)) {
      out.push('{');
      let first = true;
      for (const k of Object.keys(v)) {
        const e = v[k];
        if (skipped(e)) continue;
        out.push((first ? '' : ',') + JSON.stringify(k) + ':');
        first = false;
        yield* walk(e);
      }
      out.push('}');
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  }
  yield* walk(value);
  yield;
  return out.join('');
}

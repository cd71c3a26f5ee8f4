// A strict checker of the JSON Trace Event Format as sitempi writes it (the subset Perfetto's UI
// and chrome://tracing read): throws on the first violation, returns the events by kind.

export interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  s?: string;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface CheckedTrace {
  events: TraceEvent[];
  /** complete events by "pid:tid" in file order */
  calls: Map<string, TraceEvent[]>;
  /** thread names by "pid:tid" */
  threads: Map<string, string>;
  processes: Map<number, string>;
  instants: TraceEvent[];
}

const METADATA = new Set(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index']);
// ts and dur are in µs with ns digits: sums may be off by a rounding of the last bit
const EPS = 1e-6;

function fail(i: number, ev: unknown, why: string): never {
  throw new Error(`trace event ${i} ${JSON.stringify(ev)}: ${why}`);
}

export function checkTrace(text: string): CheckedTrace {
  const doc = JSON.parse(text) as { traceEvents?: unknown; displayTimeUnit?: unknown };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.traceEvents))
    throw new Error('no traceEvents array');
  if (doc.displayTimeUnit !== undefined && doc.displayTimeUnit !== 'ns' && doc.displayTimeUnit !== 'ms')
    throw new Error(`bad displayTimeUnit ${String(doc.displayTimeUnit)}`);
  const out: CheckedTrace = { events: [], calls: new Map(), threads: new Map(), processes: new Map(), instants: [] };
  const lastTs = new Map<string, number>();
  const open = new Map<string, number[]>(); // per thread: ends of the enclosing complete events
  const used = new Set<string>();
  (doc.traceEvents as unknown[]).forEach((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(i, raw, 'not an object');
    const ev = raw as TraceEvent;
    if (typeof ev.name !== 'string' || ev.name === '') fail(i, ev, 'name');
    if (!Number.isInteger(ev.pid) || ev.pid < 0) fail(i, ev, 'pid not a non-negative integer');
    if (!Number.isInteger(ev.tid) || ev.tid < 0) fail(i, ev, 'tid not a non-negative integer');
    if (ev.args !== undefined && (typeof ev.args !== 'object' || ev.args === null || Array.isArray(ev.args)))
      fail(i, ev, 'args not an object');
    const key = `${ev.pid}:${ev.tid}`;
    out.events.push(ev);
    if (ev.ph === 'M') {
      if (!METADATA.has(ev.name)) fail(i, ev, 'unknown metadata');
      if (ev.name.endsWith('_name')) {
        if (typeof ev.args?.name !== 'string') fail(i, ev, 'metadata name');
        if (ev.name === 'thread_name') out.threads.set(key, ev.args.name as string);
        else out.processes.set(ev.pid, ev.args.name as string);
      } else if (!Number.isInteger(ev.args?.sort_index)) fail(i, ev, 'sort_index');
      return;
    }
    if (typeof ev.ts !== 'number' || !Number.isFinite(ev.ts) || ev.ts < 0) fail(i, ev, 'ts');
    if (ev.ph === 'i') {
      if (ev.s !== 'g' && ev.s !== 'p' && ev.s !== 't') fail(i, ev, 'instant scope');
      out.instants.push(ev);
      if (ev.s === 'g') return; // global: not on a thread's track
    } else if (ev.ph === 'X') {
      if (typeof ev.dur !== 'number' || !Number.isFinite(ev.dur) || ev.dur < 0) fail(i, ev, 'dur');
      if (typeof ev.cat !== 'string') fail(i, ev, 'cat');
      let l = out.calls.get(key);
      if (!l) out.calls.set(key, (l = []));
      l.push(ev);
    } else fail(i, ev, `phase ${ev.ph} not expected`);
    used.add(key);
    // per thread, in file order: non-decreasing ts; complete events nest or do not overlap
    if (ev.ts < (lastTs.get(key) ?? 0)) fail(i, ev, 'ts goes back on its thread');
    lastTs.set(key, ev.ts);
    if (ev.ph === 'X') {
      let stack = open.get(key);
      if (!stack) open.set(key, (stack = []));
      while (stack.length && stack[stack.length - 1] <= ev.ts + EPS) stack.pop();
      const end = ev.ts + ev.dur!;
      if (stack.length && end > stack[stack.length - 1] + EPS) fail(i, ev, 'overlaps an event it is not inside');
      stack.push(end);
    }
  });
  for (const key of used) {
    if (!out.threads.has(key)) throw new Error(`thread ${key} has events but no thread_name`);
    if (!out.processes.has(Number(key.split(':')[0]))) throw new Error(`process of ${key} has no process_name`);
  }
  return out;
}

// Collective records of one rank, aggregated at ingest by (epoch, function, communicator,
// algorithm, root, bytes) -> count in an open-addressing hash table over typed arrays, so that a
// collective record costs one hash probe. The monitor expands each entry into pairwise flows
// only when a matrix is asked for (count x flows of one call).

export class CollTable {
  size = 0;
  private cap: number;
  private slots: Int32Array; // entry index + 1, 0 = empty
  epoch: Float64Array;
  fn: Uint32Array;
  comm: Int32Array;
  alg: Uint32Array;
  root: Int32Array;
  bytes: Float64Array;
  count: Float64Array;

  constructor(initial = 64) {
    this.cap = initial;
    this.slots = new Int32Array(initial * 2);
    this.epoch = new Float64Array(initial);
    this.fn = new Uint32Array(initial);
    this.comm = new Int32Array(initial);
    this.alg = new Uint32Array(initial);
    this.root = new Int32Array(initial);
    this.bytes = new Float64Array(initial);
    this.count = new Float64Array(initial);
  }

  /**
   * Adds one record (fn: the function id, comm: the job's communicator index or -1). A record
   * that needs a new entry is refused (false) unless mayGrow.
   */
  add(epoch: number, fn: number, comm: number, alg: number, root: number, bytes: number, mayGrow = true): boolean {
    let h =
      Math.imul(fn + 1, 0x9e3779b1) ^
      Math.imul(comm + 7, 0x85ebca6b) ^
      Math.imul(alg + 13, 0xc2b2ae35) ^
      Math.imul(root + 3, 0x27d4eb2f) ^
      Math.imul(bytes | 0, 0x165667b1) ^
      Math.imul((bytes / 4294967296) | 0, 0x5bd1e995) ^
      Math.imul(epoch | 0, 0x1b873593);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    const mask = this.slots.length - 1;
    let s = h & mask;
    for (;;) {
      const e = this.slots[s];
      if (e === 0) break;
      const i = e - 1;
      if (
        this.bytes[i] === bytes &&
        this.fn[i] === fn &&
        this.root[i] === root &&
        this.comm[i] === comm &&
        this.alg[i] === alg &&
        this.epoch[i] === epoch
      ) {
        this.count[i] += 1;
        return true;
      }
      s = (s + 1) & mask;
    }
    if (!mayGrow) return false;
    if (this.size === this.cap) {
      this.grow();
      return this.add(epoch, fn, comm, alg, root, bytes);
    }
    const i = this.size++;
    this.epoch[i] = epoch;
    this.fn[i] = fn;
    this.comm[i] = comm;
    this.alg[i] = alg;
    this.root[i] = root;
    this.bytes[i] = bytes;
    this.count[i] = 1;
    this.slots[s] = i + 1;
    return true;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const copy = <T extends Float64Array | Uint32Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.epoch = copy(this.epoch, (n) => new Float64Array(n));
    this.fn = copy(this.fn, (n) => new Uint32Array(n));
    this.comm = copy(this.comm, (n) => new Int32Array(n));
    this.alg = copy(this.alg, (n) => new Uint32Array(n));
    this.root = copy(this.root, (n) => new Int32Array(n));
    this.bytes = copy(this.bytes, (n) => new Float64Array(n));
    this.count = copy(this.count, (n) => new Float64Array(n));
    this.cap = cap;
    // rehash into a table twice the entry capacity (load factor <= 1/2)
    const n = this.size;
    this.size = 0;
    this.slots = new Int32Array(cap * 2);
    const old = {
      e: this.epoch.slice(0, n),
      f: this.fn.slice(0, n),
      c: this.comm.slice(0, n),
      a: this.alg.slice(0, n),
      r: this.root.slice(0, n),
      b: this.bytes.slice(0, n),
      k: this.count.slice(0, n),
    };
    for (let i = 0; i < n; i++) {
      this.add(old.e[i], old.f[i], old.c[i], old.a[i], old.r[i], old.b[i]);
      this.count[this.size - 1] = old.k[i];
    }
  }
}

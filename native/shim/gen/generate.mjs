#!/usr/bin/env node
// Generates the shim's wrappers from native/shim/mpi_functions.txt and the facts shared by C++ and
// TypeScript from facts.mjs and proto/sitempi.proto:
//   --cpp DIR   DIR/wrappers.cpp (C and Fortran entry points), DIR/functions.h (function ids),
//               DIR/facts.h, DIR/wire_fields.h and DIR/tuned_table.h (coll/tuned's rules, tuned_rules.mjs)
//   --ts DIR    DIR/functions.ts (the function table used by the monitor), DIR/facts.ts,
//               DIR/wire_fields.ts and DIR/tuned-table.ts
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kinds, collOfKind, ADAPTIVE } from './kinds.mjs';
import { COLL_NAMES, factsHeader, factsTs } from './facts.mjs';
import { parseProto, wireFieldsHeader, wireFieldsTs } from './proto_fields.mjs';
import { tunedHeader, tunedTs } from './tuned_rules.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const HANDLES = {
  MPI_Comm: 'Comm',
  MPI_Datatype: 'Type',
  MPI_Win: 'Win',
  MPI_Op: 'Op',
  MPI_Group: 'Group',
  MPI_Request: 'Request',
  MPI_Info: 'Info',
  MPI_Message: 'Message',
  MPI_Errhandler: 'Errhandler',
};

export function parseTable(text) {
  const fns = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(\w+)\((.*)\)$/.exec(line);
    if (!m) throw new Error(`mpi_functions.txt: cannot parse "${line}"`);
    const [, kind, name, paramText] = m;
    if (kind !== 'lifecycle' && !kinds[kind]) throw new Error(`mpi_functions.txt: unknown kind ${kind} (${name})`);
    const params = paramText.trim() === 'void' ? [] : paramText.split(',').map(parseParam);
    fns.push({ id: fns.length, kind, name, params });
  }
  return fns;
}

// "const int sendcounts[]" -> { decl, name: "sendcounts", type: "const int []", base: "int", ptr: 0, array: true }
function parseParam(text) {
  const t = text.trim().replace(/\s+/g, ' ');
  const m = /^(.*?)(\w+)((?:\[\w*\])*)$/.exec(t);
  if (!m) throw new Error(`cannot parse parameter "${t}"`);
  const left = m[1].trim();
  const name = m[2];
  const dims = m[3];
  const ptr = (left.match(/\*/g) || []).length;
  const base = left
    .replace(/\*/g, '')
    .replace(/\bconst\b/g, '')
    .trim();
  const type = `${left.replace(/\s*\*/g, ' *').replace(/\s+/g, ' ').trim()}${dims ? ' ' + dims.replace(/\[\w+\]/g, (d) => d) : ''}`;
  return { decl: t, name, type: ptr ? `${base} *` : type.replace(/^const /, ''), base, ptr, array: !!dims, dims };
}

const isHandle = (p) => p.base in HANDLES;
const isStatus = (p) => p.base === 'MPI_Status';

function cFlavor(decls) {
  return {
    v(name, p) {
      if (p.base === 'void' || p.array || isStatus(p)) return name;
      return p.ptr ? `(*${name})` : name;
    },
    el: (name, i) => `${name}[${i}]`,
    buf: (name) => name,
    statuses(name, n, need) {
      decls.push(`sitempi::shim::CStatuses sts_(${name}, ${n}, ${need});`);
      return 'sts_.arg';
    },
    index: (e) => e,
  };
}

function fFlavor(decls) {
  const conv = (p, expr) => (isHandle(p) ? `PMPI_${HANDLES[p.base]}_f2c(${expr})` : expr);
  return {
    v(name, p) {
      if (p.base === 'void') return `sitempi::shim::f_buf(${name})`;
      if (p.array || isStatus(p)) return name;
      return conv(p, `(*${name})`);
    },
    el: (name, i, p) => conv(p, `${name}[${i}]`),
    buf: (name) => `sitempi::shim::f_buf(${name})`,
    statuses(name, n, need) {
      decls.push(`sitempi::shim::FStatuses sts_(${name}, ${n}, ${need});`);
      return 'sts_.arg';
    },
    index: (e) => `((${e}) - 1)`,
  };
}

// Binds a flavor to a function's parameters so that rules can name parameters.
function bind(flavor, fn) {
  const byName = Object.fromEntries(fn.params.map((p) => [p.name, p]));
  const get = (name) => {
    const p = byName[name];
    if (!p) throw new Error(`MPI_${fn.name} (${fn.kind}): no parameter "${name}"`);
    return p;
  };
  return {
    v: (name) => flavor.v(name, get(name)),
    el: (name, i) => flavor.el(name, i, get(name)),
    buf: (name) => flavor.buf(name, get(name)),
    statuses: (name, n, need) => (get(name), flavor.statuses(name, n, need)),
    index: flavor.index,
  };
}

function fortranType(p) {
  if (p.base === 'void') return 'void *';
  if (p.base === 'MPI_Aint') return 'MPI_Aint *';
  return 'MPI_Fint *';
}

// A Fortran argument as the C dispatcher takes it.
function fortranToC(p) {
  if (p.base === 'void') return `const_cast<void *>(sitempi::shim::f_buf(${p.name}))`;
  if (isHandle(p)) return `PMPI_${HANDLES[p.base]}_f2c(*${p.name})`;
  if (p.array) return `reinterpret_cast<const int *>(${p.name})`; // MPI_Fint is int (fortran.h)
  return `*${p.name}`;
}

function expand(fn, flavorFactory) {
  const decls = [];
  const f = bind(flavorFactory(decls), fn);
  const rule = kinds[fn.kind](f, fn.params, fn.name);
  return { pre: [rule.pre, ...decls].filter(Boolean).join('\n  '), args: rule.args || {}, post: rule.post || '' };
}

// The Outcome of a collective (coll/dispatch.h) where the library's algorithm ran: a constant, so
// that the record's algorithm and cross-site fields fold away and it takes one slot.
const LIBRARY_OUTCOME = 'constexpr sitempi::coll::Outcome out_{};';
const isColl = (fn) => !!collOfKind[fn.kind];

function cWrapper(fn) {
  const { pre, args, post } = expand(fn, cFlavor);
  const params = fn.params.map((p) => p.decl).join(', ') || 'void';
  const plain = fn.params.map((p) => p.name).join(', ');
  const callArgs = fn.params.map((p) => args[p.name] || p.name).join(', ');
  const blocking = !fn.params.some((p) => p.base === 'MPI_Request');
  const head = `extern "C" SITEMPI_EXPORT int MPI_${fn.name}(${params}) {
  if (!sitempi::shim::enter()) return PMPI_${fn.name}(${plain});
  sitempi::shim::Call call_(sitempi::shim::FN_${fn.name});
  ${pre}`;
  if (ADAPTIVE.has(fn.name)) {
    const index = COLL_NAMES.indexOf(collOfKind[fn.kind]);
    if (index >= 30) throw new Error(`facts.mjs: family ${collOfKind[fn.kind]} has no bit below kIdle (dispatch.h)`);
    const bit = (1 << index) >>> 0;
    const direct = `${LIBRARY_OUTCOME}
    [[maybe_unused]] const int rc_ = PMPI_${fn.name}(${callArgs});
    call_.stop();
    ${post}
    return rc_;`;
    const slow = `sitempi::coll::Outcome out_;
  [[maybe_unused]] const int rc_ = ${blocking ? `!sitempi::coll::site_possible(${bit}u) ? PMPI_${fn.name}(${callArgs}) : ` : ''}sitempi::coll::${fn.name}(${callArgs}, &out_);
  call_.stop();
  ${post}
  return rc_;
}
`;
    // Non-blocking: the job-wide check inline (one site, SITEMPI_COLL=off: PMPI at once), the
    // site-aware dispatcher's path apart, with the Outcome it fills.
    if (!blocking)
      return `${head}
  if (!sitempi::coll::site_possible(${bit}u)) {
    ${direct}
  }
  ${slow}`;
    // Blocking: the depth and one word decide the common case (recording, no site-aware family:
    // PMPI at once); anything else takes the wrapper's usual path and the dispatcher.
    return `extern "C" SITEMPI_EXPORT int MPI_${fn.name}(${params}) {
  const uint64_t word_ = sitempi::coll::g_coll_word.load(std::memory_order_relaxed);
  if (sitempi::shim::t_fast.depth == 0 && sitempi::coll::coll_fast(word_, ${bit}u)) {
    sitempi::shim::Call call_(sitempi::shim::FN_${fn.name});
    ${pre}
    ${direct}
  }
  if (!sitempi::shim::enter()) return PMPI_${fn.name}(${plain});
  sitempi::shim::Call call_(sitempi::shim::FN_${fn.name});
  ${pre}
  ${slow}`;
  }
  return `${head}${isColl(fn) ? `\n  ${LIBRARY_OUTCOME}` : ''}
  [[maybe_unused]] const int rc_ = PMPI_${fn.name}(${callArgs});
  call_.stop();
  ${post}
  return rc_;
}
`;
}

function fortranWrapper(fn) {
  const { pre, args, post } = expand(fn, fFlavor);
  const lower = fn.name.toLowerCase();
  const fparams = [...fn.params.map((p) => `${fortranType(p)}${p.name}`), 'MPI_Fint *ierr'].join(', ');
  const ftypes = [...fn.params.map(fortranType), 'MPI_Fint *'].join(', ');
  const plain = [...fn.params.map((p) => p.name), 'ierr'].join(', ');
  const callArgs = [...fn.params.map((p) => args[p.name] || p.name), 'ierr'].join(', ');
  const entry = (sym, v) => `SITEMPI_EXPORT void ${sym}(${fparams}) { F_${fn.name}<${v}>(${plain}); }`;
  // Covered collectives run the site-aware algorithms for Fortran callers too: the arguments are
  // converted as Open MPI's own Fortran binding does (handles f2c, sentinels, MPI_Fint arrays) and
  // the C dispatcher takes over; with no sites in use the library's binding runs as before.
  // Non-blocking ones (an MPI_Request output) stay the library's for Fortran callers.
  const siteAware =
    ADAPTIVE.has(fn.name) && !fn.params.some((p) => p.base === 'MPI_Request')
      ? `if (sitempi::coll::site_aware_in_use()) {
    sitempi::coll::Outcome out_;
    [[maybe_unused]] const int rc_ = sitempi::coll::${fn.name}(${fn.params.map(fortranToC).join(', ')}, &out_);
    call_.stop();
    if (ierr) *ierr = rc_;
    ${post}
    return;
  }
  `
      : '';
  return `namespace {
using F_${fn.name}_t = void(${ftypes});
template <int V>
void F_${fn.name}(${fparams}) {
  static F_${fn.name}_t* const real_ = reinterpret_cast<F_${fn.name}_t*>(
      sitempi::shim::fortran_symbol(V ? "pmpi_${lower}_f08_" : "pmpi_${lower}_", V ? "mpi_${lower}_f08_" : "mpi_${lower}_"));
  if (!real_) { if (ierr) *ierr = MPI_ERR_INTERN; return; }
  if (!sitempi::shim::enter()) { real_(${plain}); return; }
  sitempi::shim::Call call_(sitempi::shim::FN_${fn.name});
  ${pre}
  ${siteAware}${isColl(fn) ? `${LIBRARY_OUTCOME}\n  ` : ''}real_(${callArgs});
  call_.stop();
  [[maybe_unused]] const int rc_ = ierr ? *ierr : MPI_SUCCESS;
  ${post}
}
}  // namespace
extern "C" {
${entry(`mpi_${lower}_`, 0)}
${entry(`mpi_${lower}__`, 0)}
${entry(`mpi_${lower}`, 0)}
${entry(`MPI_${fn.name.toUpperCase()}`, 0)}
${entry(`mpi_${lower}_f08_`, 1)}
}
`;
}

function functionsHeader(fns) {
  return `// Generated by native/shim/gen/generate.mjs from native/shim/mpi_functions.txt. Do not edit.
#pragma once
#include <cstdint>

namespace sitempi::shim {

enum Fn : uint32_t {
${fns.map((f) => `  FN_${f.name} = ${f.id},`).join('\n')}
  kNumFunctions = ${fns.length}
};

}  // namespace sitempi::shim
`;
}

function wrappersSource(fns) {
  const wrapped = fns.filter((f) => f.kind !== 'lifecycle');
  return `// Generated by native/shim/gen/generate.mjs from native/shim/mpi_functions.txt. Do not edit.
// ${wrapped.length} functions, each with a C entry point and Fortran entry points (mpif.h and
// \`use mpi\` in every name mangling, and \`use mpi_f08\`).
#include <mpi.h>

#include "coll/dispatch.h"
#include "comms.h"
#include "fortran.h"
#include "peers.h"
#include "recorder.h"
#include "requests.h"

#define SITEMPI_EXPORT __attribute__((visibility("default")))

${wrapped.map(cWrapper).join('\n')}
${wrapped.map(fortranWrapper).join('\n')}`;
}

function functionsTs(fns) {
  const rows = fns.map(
    (f) =>
      `  { id: ${f.id}, name: 'MPI_${f.name}', kind: '${f.kind}', coll: ${collOfKind[f.kind] ? COLL_NAMES.indexOf(collOfKind[f.kind]) : 0} },`,
  );
  for (const [kind, family] of Object.entries(collOfKind)) {
    if (!COLL_NAMES.includes(family))
      throw new Error(`kinds.mjs: kind ${kind} has unknown family ${family} (facts.mjs, COLLS)`);
  }
  return `// Generated by native/shim/gen/generate.mjs from native/shim/mpi_functions.txt. Do not edit.
export interface FunctionInfo {
  /** Function id, as in Batch.fn (low bits). */
  id: number;
  name: string;
  /** Recording rule (native/shim/gen/kinds.mjs). */
  kind: string;
  /** Collective family (native/core/cost_model.h, enum Coll); 0 for non-collectives. */
  coll: number;
}

export const FUNCTIONS: readonly FunctionInfo[] = [
${rows.join('\n')}
];

// The roles and families belong to facts.ts; exported here too for the table's readers.
export { COLL_NAMES, Role, ROLE_SHIFT } from './facts.js';
`;
}

/** Every generated file, by name: what --cpp and --ts write. */
export function generate() {
  const table = parseTable(fs.readFileSync(path.join(here, '..', 'mpi_functions.txt'), 'utf8'));
  const proto = parseProto(fs.readFileSync(path.join(here, '..', '..', '..', 'proto', 'sitempi.proto'), 'utf8'));
  return {
    cpp: {
      'functions.h': functionsHeader(table),
      'wrappers.cpp': wrappersSource(table),
      'facts.h': factsHeader(),
      'wire_fields.h': wireFieldsHeader(proto),
      'tuned_table.h': tunedHeader(),
    },
    ts: {
      'functions.ts': functionsTs(table),
      'facts.ts': factsTs(),
      'wire_fields.ts': wireFieldsTs(proto),
      'tuned-table.ts': tunedTs(),
    },
  };
}

function main(argv) {
  const out = generate();
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, dir] = [argv[i], argv[i + 1]];
    if (!dir) throw new Error(`${flag} needs a directory`);
    const files = flag === '--cpp' ? out.cpp : flag === '--ts' ? out.ts : null;
    if (!files) throw new Error(`unknown option ${flag} (use --cpp DIR or --ts DIR)`);
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeIfChanged(path.join(dir, name), text);
  }
}

function writeIfChanged(file, text) {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return;
  fs.writeFileSync(file, text);
}

// Run as a script (also through a symlinked tree, as .ci/build-gyp builds): not when imported.
if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) main(process.argv.slice(2));

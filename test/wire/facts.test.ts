// The facts that C++ and TypeScript share (roles, collective families, placement marks, wire
// constants and the field numbers of proto/sitempi.proto) are written once, in
// native/shim/gen/facts.mjs and the .proto, and generated into build/generated/ and src/generated/.
// These tests fail when a generated copy drifts from its source, when the compiled shim and addon
// disagree with it, or when a constant is written by hand in the sources again.
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  ALGS,
  COLLS,
  MARKS,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  ROLES,
  ROLE_SHIFT,
} from '../../native/shim/gen/facts.mjs';
import { generate } from '../../native/shim/gen/generate.mjs';
import { parseProto } from '../../native/shim/gen/proto_fields.mjs';
import * as facts from '../../src/generated/facts.js';
import * as fields from '../../src/generated/wire_fields.js';
import { addon } from '../../src/native/addon.js';
import { packageRoot } from '../../src/native/paths.js';

const root = packageRoot;
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');

describe('generated facts', () => {
  const fresh = generate();

  it('src/generated/ and build/generated/ are what the sources generate now', () => {
    for (const [dir, files] of [
      ['src/generated', fresh.ts],
      ['build/generated', fresh.cpp],
    ] as const) {
      for (const [name, text] of Object.entries(files)) {
        const file = path.join(dir, name);
        expect(fs.existsSync(path.join(root, file)), `${file} missing: run npm run build`).toBe(true);
        expect(read(file), `${file} is stale or edited: run npm run build`).toBe(text);
      }
    }
  });

  it('the field numbers are those protobufjs reads from the .proto', () => {
    const schema = protobuf.loadSync(path.join(root, 'proto', 'sitempi.proto'));
    const messages = parseProto(read('proto/sitempi.proto'));
    const types = schema.lookup('sitempi') as protobuf.Namespace;
    expect(messages.map((m) => m.name).sort()).toEqual(types.nestedArray.map((t) => t.name).sort());
    for (const m of messages) {
      const type = schema.lookupType(`sitempi.${m.name}`);
      const want = Object.fromEntries(type.fieldsArray.map((f) => [f.name, f.id])); // camelCase names
      const generated = (fields as Record<string, Record<string, number>>)[`${m.name}Field`];
      expect(generated, `${m.name}Field`).toEqual(want);
    }
  });

  it('the TypeScript module carries the table', () => {
    expect(facts.ROLE_SHIFT).toBe(ROLE_SHIFT);
    expect(Object.entries(facts.Role)).toEqual(ROLES.map((r) => [r.name, r.value]));
    expect(Object.entries(facts.PlacementMark)).toEqual(MARKS.map((m) => [m.name, m.value]));
    expect(Object.entries(facts.Alg)).toEqual(ALGS.map((a) => [a.name, a.value]));
    expect(facts.COLL_NAMES).toEqual(COLLS.map((c) => c.name));
    expect(facts.PROTOCOL_VERSION).toBe(PROTOCOL_VERSION);
    expect(facts.MAX_FRAME_BYTES).toBe(MAX_FRAME_BYTES);
  });

  it('the compiled addon agrees: wire constants, site-aware families and their numbers', () => {
    expect(addon.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(addon.maxFrameBytes).toBe(MAX_FRAME_BYTES);
    // parseCollSwitch lists the enabled families in core::Coll order, by their SITEMPI_COLL names.
    const siteAware = COLLS.filter((c) => c.site);
    expect(addon.parseCollSwitch('all')).toEqual(siteAware.map((c) => c.site));
    for (const c of siteAware) expect(addon.parseCollSwitch(c.site!)).toContain(c.site);
    // Family numbers: a bcast of 100 kB from root 0 over 4 ranks (coll/tuned: linear) sends it to
    // each other rank; a barrier moves no bytes.
    const bcast = addon.expandCollective(facts.COLL_NAMES.indexOf('Bcast'), 0, 0, 0, 4, 100_000);
    expect([...bcast.dst].sort()).toEqual([1, 2, 3]);
    expect([...bcast.bytes]).toEqual([100_000, 100_000, 100_000]);
    const barrier = addon.expandCollective(facts.COLL_NAMES.indexOf('Barrier'), 0, 0, -1, 4, 100);
    expect([...barrier.bytes].every((b) => b === 0)).toBe(true);
  });

  it('no role, family, mark, wire constant or field number is written by hand in the sources', () => {
    // Each pattern is the shape a hand-written copy takes. The generated files, the facts table
    // and this test are not scanned.
    const everywhere = [
      /\bkRole\w*\s*=\s*\d/,
      /\bkRoleShift\s*=/,
      /\bROLE_\w*\s*=\s*\d/,
      /\bkMark\w*\s*=\s*\d/,
      /\bMARK_\w*\s*=\s*\d/,
      /enum\s+class\s+Coll\b/,
      /\{\s*"[a-z]+"\s*,\s*Coll::/,
      /\bRole\s*=\s*\{/,
      /\bCOLL_NAMES\s*=\s*\[/,
      /ADAPTIVE\s*=\s*new Set\(\[/,
      /(<<|>>>?)\s*9\b/,
      /\bkProtocolVersion\s*=/,
      /\bkMaxFrameBytes\s*=/,
      /\bPROTOCOL_VERSION\s*=\s*\d/,
      /\bMAX_FRAME_BYTES\s*=\s*\d/,
    ];
    // Field numbers as literals where the hand-written encoders and decoders use them.
    const tsWire = [
      /\bfield\s*(===|!==|<=|>=|<|>)\s*[1-9]/,
      /\b(u32|u64)\(\s*\d/,
      /\d+\s*:\s*'(hello|batch|placement|ack|error|bye|commDef)'/,
      /COLUMN_FIELDS\s*=\s*\d/,
      /\bf\s*(<=|<|=)\s*\d+\s*;/,
    ];
    const wire: Record<string, RegExp[]> = {
      'native/core/wire.cpp': [
        /\b(u64|str|bytes|len_header|field_u64_size|field_len_size)\(\s*\d+\s*,/,
        /write_packed_u32\(\s*w\s*,\s*\d/,
        /\bfield\s*==\s*[1-9]/,
        /\(\s*k\s*>>\s*3\s*\)\s*==\s*\d/,
        /\b\d+\s*\+\s*k\b/,
        /\bk(Hello|Batch|Placement|Ack|Error|Bye|CommDef)\s*=\s*\d/,
      ],
      'src/wire/messages.ts': tsWire,
      'src/wire/batch.ts': tsWire,
    };
    const skip = new Set(['native/shim/gen/facts.mjs', 'test/wire/facts.test.ts']);
    const sources: string[] = [];
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const r = path.join(rel, e.name);
        if (e.isDirectory()) {
          if (r !== 'src/generated') walk(r);
        } else if (/\.(c|h|cpp|ts|mts|mjs)$/.test(e.name) && !skip.has(r)) sources.push(r);
      }
    };
    for (const dir of ['src', 'native', 'test', 'bench', 'bin']) if (fs.existsSync(path.join(root, dir))) walk(dir);
    expect(sources).toContain('native/core/wire.cpp');
    expect(sources).toContain('src/wire/messages.ts');
    expect(sources).toContain('src/wire/batch.ts');
    const found: string[] = [];
    for (const file of sources) {
      const patterns = [...everywhere, ...(wire[file] ?? [])];
      read(file)
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '');
          for (const p of patterns) if (p.test(code)) found.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });
});

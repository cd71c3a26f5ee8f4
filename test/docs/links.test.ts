// The repository's Markdown stands alone: every relative link of every tracked *.md resolves to a
// file inside the repository (and to a heading, when it names one), and papers are cited by
// authors and title (docs/references.md), never by the numbers of files outside the repository.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/native/paths.js';

/** The repository's Markdown files: git's list, or (outside a git checkout) a walk of the tree. */
function markdownFiles(): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '*.md'], {
      cwd: packageRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\0').filter((f) => f && fs.existsSync(path.join(packageRoot, f)));
  } catch {
    const skip = new Set(['.git', 'node_modules', 'build', 'build-gyp', 'dist']);
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(path.join(packageRoot, dir), { withFileTypes: true })) {
        const rel = dir ? `${dir}/${e.name}` : e.name;
        if (e.isDirectory() && !skip.has(e.name)) walk(rel);
        else if (e.isFile() && e.name.endsWith('.md')) found.push(rel);
      }
    };
    walk('');
    return found;
  }
}

/** The lines of a Markdown text, those inside fenced code blocks blanked. */
function outsideFences(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/** GitHub's anchors for the headings of a Markdown text. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of outsideFences(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function links(file: string, text: string): Link[] {
  const out: Link[] = [];
  outsideFences(text).forEach((full, i) => {
    const line = full.replace(/`[^`]*`/g, ''); // code spans are not links
    // [text](target) and ![alt](target); the target ends at whitespace or ')'.
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ file, line: i + 1, target: m[1] });
    }
    // reference definitions: [label]: target
    const ref = /^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(\s|$)/.exec(line);
    if (ref) out.push({ file, line: i + 1, target: ref[1] });
  });
  return out;
}

/** Why a link does not resolve inside the repository, or null when it does. */
function problem(link: Link): string | null {
  const { target } = link;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return /^(https?|mailto):/i.test(target) ? null : 'unknown scheme';
  const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
  const fromDir = path.dirname(path.join(packageRoot, link.file));
  if (rawPath.startsWith('/')) return 'absolute path';
  const resolved = rawPath ? path.resolve(fromDir, decodeURIComponent(rawPath)) : path.join(packageRoot, link.file);
  const rel = path.relative(packageRoot, resolved);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return 'points outside the repository';
  if (!fs.existsSync(resolved)) return 'no such file';
  if (anchor !== undefined && resolved.endsWith('.md')) {
    if (!anchors(fs.readFileSync(resolved, 'utf8')).has(anchor.toLowerCase())) return `no heading #${anchor}`;
  }
  return null;
}

describe('Markdown links', () => {
  const files = markdownFiles();

  it('finds the Markdown files (README, docs)', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/architecture.md');
    expect(files).toContain('docs/references.md');
  });

  it('every relative link resolves inside the repository', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const link of links(file, fs.readFileSync(path.join(packageRoot, file), 'utf8'))) {
        checked++;
        const why = problem(link);
        if (why) bad.push(`${link.file}:${link.line}: ${link.target} (${why})`);
      }
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('the checker catches what it should', () => {
    const probe = (target: string) => problem({ file: 'docs/architecture.md', line: 1, target });
    expect(probe('../../shared/DESIGN.md')).toBe('points outside the repository');
    expect(probe('no-such-page.md')).toBe('no such file');
    expect(probe('references.md#no-such-heading')).toBe('no heading #no-such-heading');
    expect(probe('/etc/passwd')).toBe('absolute path');
    expect(probe('references.md#sato-et-al--the-migration-cost-model')).toBeNull();
    expect(probe('../README.md')).toBeNull();
    expect(probe('#wire-protocol')).toBeNull();
    expect(probe('https://www.open-mpi.org/')).toBeNull();
    expect(links('x.md', 'a [b](c.md) `[d](e.md)`\n```\n[f](g.md)\n```\n[h]: i.md').map((l) => l.target)).toEqual([
      'c.md',
      'i.md',
    ]);
  });

  it('papers are cited by authors and title, not by seed numbers', () => {
    const bad: string[] = [];
    for (const file of files) {
      fs.readFileSync(path.join(packageRoot, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/\bseeds?\s*\d{3}\b|shared\/seeds/i.test(line)) bad.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(bad).toEqual([]);
  });

  it('the README fits in about 200 lines', () => {
    const n = fs.readFileSync(path.join(packageRoot, 'README.md'), 'utf8').split('\n').length;
    expect(n).toBeLessThanOrEqual(220);
  });
});

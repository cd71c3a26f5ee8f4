// The command executor: relocation through a user's hook, e.g. a script that live-migrates VMs with
// the site's own tools (virsh migrate, a cloud API...).
//
// The hook is run once per relocation, without a shell: a command line given as one string is split
// into words (quotes '...' and "..." group, \ escapes; pipes, redirections, variables and the like
// are refused: put them in a script). Its environment is the monitor's without the secrets
// (SITEMPI_TOKEN, SITEMPI_JOB_KEY). Every host name has passed the strict grammar of hostname.ts.
// It gets one JSON object on stdin:
//
//   { "action": "relocate", "reason": "...",
//     "job": { "id": "run-x", "size": 4, "hosts": ["vm1", "vm1", "vm2", "vm2"] },
//     "hosts": { "0": "vm1", ... }                 // rank -> host, the same as job.hosts
//     "current": { "sites": ["A","B"], "siteOf": [0,0,1,1] } | null,
//     "target":  { "sites": ["A","B"], "siteOf": [0,0,0,0] },
//     "estimate": { "mode": "live", "downtimeSeconds": 0.01, ... } | null }
//
// and must print the placement actually reached as JSON on stdout, either the placement itself
// ({"sites": [...], "siteOf": [...]}) or {"placement": {...}}, and exit 0. A non-zero exit, a
// timeout, or output that is not such a placement is an error with the hook's stderr in the
// message; the monitor records it in the relocation event and carries on.
//
// The job manager also sends { "action": "suspend", ..., "ranks": [2] } (stop the VM of these
// ranks: its move follows as a relocate request) and "resume" (start it again where it was: its
// move was called off); the hook exits 0, its output is not read.
import { spawn } from 'node:child_process';
import type { Executor, JobInfo, RelocationRequest, SuspendRequest } from './executor.js';
import { badHostname } from './hostname.js';
import { validatePlacement, type SitePlacement } from './sitemap.js';

export interface CommandExecutorOptions {
  /** The hook: a command line (split into words, no shell: see splitCommand), or argv. */
  command: string | string[];
  /** Kill the hook after this long, ms. Default 600000 (10 min: migrations take time). */
  timeoutMs?: number;
  /** Extra environment for the hook. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class CommandExecutorError extends Error {
  constructor(
    message: string,
    readonly stderr = '',
    readonly stdout = '',
    readonly code: number | null = null,
  ) {
    super(message);
    this.name = 'CommandExecutorError';
  }
}

const tail = (s: string, n = 2000) => (s.length > n ? `...${s.slice(-n)}` : s).trim();

export class CommandExecutor implements Executor {
  readonly kind = 'command';

  private readonly argv: string[];

  constructor(private readonly opts: CommandExecutorOptions) {
    this.argv = Array.isArray(opts.command) ? [...opts.command] : splitCommand(opts.command ?? '');
    if (this.argv.length === 0 || !this.argv[0]) throw new Error('CommandExecutor needs a command');
  }

  /** The hook cannot tell where ranks are: the service's configuration or relocations say so. */
  async placementOf(_job: JobInfo): Promise<SitePlacement | null> {
    return null;
  }

  get commandText(): string {
    return Array.isArray(this.opts.command) ? this.opts.command.join(' ') : this.opts.command;
  }

  async relocate(req: RelocationRequest): Promise<SitePlacement> {
    const bad = badHostname(req.job);
    if (bad) throw new CommandExecutorError(`executor command \`${this.commandText}\` not run: ${bad}`);
    const input =
      JSON.stringify({
        action: 'relocate',
        reason: req.reason,
        job: { id: req.job.id, size: req.job.size, hosts: req.job.hosts },
        hosts: Object.fromEntries(req.job.hosts.map((h, r) => [String(r), h])),
        current: req.current,
        target: req.target,
        estimate: req.estimate ?? null,
      }) + '\n';
    const { stdout } = await this.run(input);
    let obj: unknown;
    const text = stdout.trim();
    try {
      // the last non-empty line, or the whole output (pretty-printed JSON)
      const lines = text.split('\n').filter((l) => l.trim());
      try {
        obj = JSON.parse(lines[lines.length - 1] ?? '');
      } catch {
        obj = JSON.parse(text);
      }
    } catch {
      throw new CommandExecutorError(
        `executor command \`${this.commandText}\` printed no JSON placement on stdout (got: ${JSON.stringify(tail(text, 300))})`,
        '',
        stdout,
        0,
      );
    }
    const p = (
      obj && typeof obj === 'object' && 'placement' in obj ? (obj as { placement: unknown }).placement : obj
    ) as SitePlacement;
    try {
      validatePlacement(p, req.job.size);
    } catch (e) {
      throw new CommandExecutorError(
        `executor command \`${this.commandText}\` printed an unusable placement: ${(e as Error).message}`,
        '',
        stdout,
        0,
      );
    }
    return { sites: [...p.sites], siteOf: [...p.siteOf] };
  }

  async suspend(req: SuspendRequest): Promise<void> {
    await this.stopStart('suspend', req);
  }

  async resume(req: SuspendRequest): Promise<void> {
    await this.stopStart('resume', req);
  }

  private async stopStart(action: 'suspend' | 'resume', req: SuspendRequest): Promise<void> {
    const bad = badHostname(req.job);
    if (bad) throw new CommandExecutorError(`executor command \`${this.commandText}\` not run: ${bad}`);
    const { job, ranks, current, target, reason } = req;
    const hosts = Object.fromEntries(job.hosts.map((h, r) => [String(r), h]));
    await this.run(JSON.stringify({ action, reason, job, hosts, ranks, current, target }) + '\n');
  }

  private run(input: string): Promise<{ stdout: string; stderr: string }> {
    const timeoutMs = this.opts.timeoutMs ?? 600_000;
    return new Promise((resolve, reject) => {
      const argv = this.argv;
      const env = { ...process.env, ...this.opts.env };
      for (const k of SECRETS) delete env[k];
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(argv[0], argv.slice(1), {
          stdio: ['pipe', 'pipe', 'pipe'],
          env,
          cwd: this.opts.cwd,
          shell: false,
        });
      } catch (e) {
        reject(
          new CommandExecutorError(`executor command \`${this.commandText}\` could not start: ${(e as Error).message}`),
        );
        return;
      }
      let stdout = '',
        stderr = '',
        timedOut = false,
        settled = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      timer.unref();
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        if (stdout.length < 1 << 20) stdout += d;
      });
      child.stderr!.on('data', (d: string) => {
        if (stderr.length < 1 << 20) stderr += d;
      });
      child.stdin!.on('error', () => {
        /* the hook did not read its input: fine */
      });
      child.stdin!.end(input);
      const fail = (e: CommandExecutorError) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(e);
        }
      };
      child.on('error', (e: NodeJS.ErrnoException) =>
        fail(
          new CommandExecutorError(
            `executor command \`${this.commandText}\` could not start: ${e.code === 'ENOENT' ? `${argv[0]} not found` : e.message}`,
          ),
        ),
      );
      child.on('close', (code, signal) => {
        if (settled) return;
        if (timedOut)
          return fail(
            new CommandExecutorError(
              `executor command \`${this.commandText}\` timed out after ${timeoutMs} ms${stderr ? `: ${tail(stderr)}` : ''}`,
              stderr,
              stdout,
              code,
            ),
          );
        if (code !== 0) {
          return fail(
            new CommandExecutorError(
              `executor command \`${this.commandText}\` ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${stderr.trim() ? `: ${tail(stderr)}` : ' (no message on stderr)'}`,
              stderr,
              stdout,
              code,
            ),
          );
        }
        settled = true;
        clearTimeout(timer);
        resolve({ stdout, stderr });
      });
    });
  }
}

/** Environment variables a hook does not get. */
const SECRETS = ['SITEMPI_TOKEN', 'SITEMPI_JOB_KEY'];

/**
 * Splits a command line into words without a shell: blanks separate words, '...' takes everything
 * literally, "..." and unquoted text take \ as an escape. Characters a shell would interpret
 * (| & ; < > ( ) $ ` and newlines), unquoted, are refused with a message: write a script.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '',
    inWord = false,
    quote: '' | "'" | '"' = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = '';
      else word += c;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if ('|&;<>()$`\n'.includes(c)) {
      throw new Error(
        `executor command ${JSON.stringify(text)}: '${c === '\n' ? '\\n' : c}' would need a shell, and the hook runs without one (put it in a script)`,
      );
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`executor command ${JSON.stringify(text)}: unterminated ${quote}`);
  if (inWord) words.push(word);
  return words;
}

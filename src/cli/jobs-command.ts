// sitempi submit / jobs / cancel / nodes: the manager's clients, one request each.
import { takeOptions, UsageError } from './args.js';
import { DEFAULT_MANAGER } from './manager-usage.js';
import { tokenFromOptions } from './secrets.js';

const COMMON = { '--manager': 'value', '--token': 'value', '--token-file': 'value' } as const;

export async function clientCommand(cmd: string, argv: string[]): Promise<number> {
  const { request } = await import('../manager/control.js');
  const { formatJobs, table } = await import('../manager/job-record.js');
  const connect = (values: Record<string, string | boolean | string[]>) => {
    const addr = typeof values.manager === 'string' ? values.manager : (process.env.SITEMPI_MANAGER ?? DEFAULT_MANAGER);
    const token = tokenFromOptions(values, (m) => process.stderr.write(`sitempi ${cmd}: warning: ${m}\n`));
    return (req: { op: string } & Record<string, unknown>) => request(addr, token, req);
  };
  switch (cmd) {
    case 'submit': {
      const { values, np, mpirunArgs, app } = parseSubmit(argv);
      const time = values.time === undefined ? undefined : Number(values.time);
      if (time !== undefined && !(time > 0 && Number.isFinite(time)))
        throw new UsageError(`--time needs a positive number of seconds, got ${String(values.time)}`);
      const r = await connect(values)({
        op: 'submit',
        name: values.name,
        np,
        mpirunArgs,
        app,
        cwd: process.cwd(),
        time,
      });
      process.stdout.write(`${String(r.id)}\n`);
      return 0;
    }
    case 'jobs':
    case 'nodes': {
      const { values, rest } = takeOptions(argv, { ...COMMON, '--json': 'flag' }, { stopAtUnknown: false });
      if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
      const r = await connect(values)({ op: cmd });
      if (values.json) process.stdout.write(JSON.stringify(r[cmd]) + '\n');
      else if (cmd === 'jobs') process.stdout.write(formatJobs(r.jobs as Parameters<typeof formatJobs>[0]));
      else process.stdout.write(formatNodes(r.nodes as NodeRow[], table));
      return 0;
    }
    case 'cancel': {
      const { values, rest } = takeOptions(argv, COMMON, { stopAtUnknown: false });
      if (rest.length === 0) throw new UsageError('cancel needs a job id');
      const send = connect(values);
      let code = 0;
      for (const id of rest) {
        try {
          const r = await send({ op: 'cancel', id });
          process.stdout.write(`${id} ${String(r.state)}\n`);
        } catch (e) {
          process.stderr.write(`sitempi cancel: ${id}: ${(e as Error).message}\n`);
          code = 1;
        }
      }
      return code;
    }
    default:
      throw new UsageError(`unknown command ${cmd}`);
  }
}

/** submit's own options and -np anywhere before "--"; every other option goes to mpirun. */
function parseSubmit(argv: string[]) {
  const dd = argv.indexOf('--');
  if (dd < 0) throw new UsageError('submit needs the program after "--": sitempi submit -np N -- ./app');
  const values: Record<string, string | boolean | string[]> = {};
  const mpirunArgs: string[] = [];
  let np: number | undefined;
  const before = argv.slice(0, dd);
  for (let i = 0; i < before.length; i++) {
    const a = before[i];
    const [name, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    if (['-np', '-n', '--np', '--name', '--time', '--manager', '--token', '--token-file'].includes(name)) {
      const v = inline ?? before[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      if (name === '-np' || name === '-n' || name === '--np') {
        np = Number(v);
        if (!Number.isInteger(np) || np < 1) throw new UsageError(`-np needs a positive integer, got ${v}`);
      } else values[name.replace(/^-+/, '')] = v;
    } else mpirunArgs.push(a);
  }
  if (np === undefined) throw new UsageError('submit needs -np N');
  const app = argv.slice(dd + 1);
  if (app.length === 0) throw new UsageError('submit needs a program after "--"');
  return { values, np, mpirunArgs, app };
}

interface NodeRow {
  name: string;
  site: string;
  slots: number;
  used: number;
  health: string;
  jobs: Record<string, number>;
  usage: { load1: number; cpuBusy: number; memUsedBytes: number; memTotalBytes: number; ageMs: number } | null;
}

function formatNodes(nodes: NodeRow[], table: (rows: string[][]) => string): string {
  const rows = [['NODE', 'SITE', 'USED', 'HEALTH', 'LOAD', 'CPU', 'MEM', 'JOBS']];
  for (const n of nodes)
    rows.push([
      n.name,
      n.site,
      `${n.used}/${n.slots}`,
      n.health,
      n.usage ? n.usage.load1.toFixed(2) : '-',
      n.usage ? `${(n.usage.cpuBusy * 100).toFixed(0)}%` : '-',
      n.usage ? `${(n.usage.memUsedBytes / 2 ** 30).toFixed(1)}/${(n.usage.memTotalBytes / 2 ** 30).toFixed(1)}G` : '-',
      Object.entries(n.jobs)
        .map(([j, k]) => `${j}:${k}`)
        .join(',') || '-',
    ]);
  return table(rows);
}

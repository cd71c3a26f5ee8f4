// `--http ADDR` of `sitempi monitor` and `sitempi run`: starts the dashboard next to the monitor.
import { UsageError } from '../cli/args.js';
import type { ClassifyOptions } from '../monitor/classify.js';
import type { Monitor } from '../monitor/monitor.js';
import type { PlacementService } from '../placement/service.js';
import { HttpAddressError, isLoopback } from './address.js';
import type { Dashboard, HistorySource } from './server.js';

type Values = Record<string, string | boolean | string[]>;

export const HTTP_OPTS = { '--http': 'value' } as const;

export interface HttpContext {
  monitor: Monitor;
  placement: PlacementService | null;
  /** the token the user gave (not one made up for the run): needed off loopback */
  token: string | null | undefined;
  classify?: ClassifyOptions;
  history?: HistorySource | null;
  log: (m: string) => void;
}

/** The dashboard of --http (null without it). Throws UsageError for a bad address or a missing token. */
export async function dashboardFromOptions(values: Values, ctx: HttpContext): Promise<Dashboard | null> {
  if (typeof values.http !== 'string') return null;
  const { DashboardError, startDashboard } = await import('./server.js');
  let testbedStateDir: string | undefined;
  if (values.testbed === true || typeof values['testbed-state'] === 'string') {
    const { DEFAULT_STATE_DIR } = await import('../testbed/state.js');
    testbedStateDir =
      typeof values['testbed-state'] === 'string'
        ? values['testbed-state']
        : (process.env.SITEMPI_TESTBED_DIR ?? DEFAULT_STATE_DIR);
  }
  try {
    const d = await startDashboard({
      monitor: ctx.monitor,
      address: values.http,
      token: ctx.token ?? null,
      placement: ctx.placement,
      history: ctx.history ?? null,
      testbedStateDir,
      classify: ctx.classify,
    });
    ctx.log(`dashboard on ${d.url}${isLoopback(d.address.host) ? '' : ' (token required)'}`);
    return d;
  } catch (e) {
    if (e instanceof DashboardError || e instanceof HttpAddressError) throw new UsageError(e.message);
    throw e;
  }
}

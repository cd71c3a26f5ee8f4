// A testbed of a test suite's own (its prefix, state directory and subnets, distinct from every
// other suite's), brought up fresh: whatever an earlier, interrupted run left is taken down first.
import os from 'node:os';
import path from 'node:path';
import { wanemuPath } from '../../src/native/paths.js';
import type { TestbedOptions, TestbedSpec } from '../../src/testbed/spec.js';
import { down, up, type TestbedState } from '../../src/testbed/testbed.js';

export function suiteTestbed(
  prefix: string,
  mgmtSubnet: string,
  dataSubnet: string,
): TestbedOptions & { stateDir: string } {
  return { prefix, stateDir: path.join(os.tmpdir(), `sitempi-testbed-${prefix}`), wanemuPath, mgmtSubnet, dataSubnet };
}

export async function freshTestbed(spec: TestbedSpec, opts: TestbedOptions): Promise<TestbedState> {
  await down(opts);
  return await up(spec, opts);
}

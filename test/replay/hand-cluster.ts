// The cluster of the hand-built traces (engine.test.ts, deferred.test.ts): round numbers whose
// answers follow from the model by hand.
import type { Cluster, LogGP } from '../../src/replay/cluster.js';

export const local: LogGP = { o: 1000, g: 0, L: 5000, G: 1 };
export const wan = { L: 1_000_000, G: 10 };
export const cluster = (siteOf: number[], extra: Partial<Cluster> = {}): Cluster => ({
  siteOf,
  intraNode: local,
  intraSite: local,
  wan,
  connectRtts: 0,
  ...extra,
});

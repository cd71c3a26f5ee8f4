// Slot usage replayed from a manager's event log, for the suites that check that capacities were
// never exceeded at any moment (test/manager/relocate.test.ts, slurm-live.test.ts).
import type { readEventLog } from '../../src/manager/event-log.js';

/** A line of the event log, its fields reachable by name. */
export type LoggedEvent = ReturnType<typeof readEventLog>[number] & Record<string, unknown>;

/**
 * Replays the log: which node is on which site and which job holds its slots. A step of a plan
 * ('move') counts at once (its migrations run back to back); 'relocated' says where the nodes are
 * after it. Returns the worst over-use of a site (slots held − capacity) and of a node.
 */
export function replayCapacity(events: LoggedEvent[]): { site: number; node: number; checked: number } {
  const cl = events.find((e) => e.type === 'cluster') as { nodes: { name: string; site: string; slots: number }[] };
  const site = new Map(cl.nodes.map((n) => [n.name, n.site]));
  const slots = new Map(cl.nodes.map((n) => [n.name, n.slots]));
  const cap = new Map<string, number>();
  for (const n of cl.nodes) cap.set(n.site, (cap.get(n.site) ?? 0) + n.slots);
  const held = new Map<string, Map<string, number>>(); // node -> job -> slots
  let worstSite = -Infinity,
    worstNode = -Infinity,
    checked = 0;
  for (const e of events) {
    if (e.type === 'start')
      for (const n of e.nodes) held.set(n.node, new Map([...(held.get(n.node) ?? []), [e.job, n.slots]]));
    else if (e.type === 'end') for (const m of held.values()) m.delete(e.job);
    else if (e.type === 'move') for (const n of e.nodes) site.set(n.node, n.to);
    else if (e.type === 'relocated') for (const n of e.nodes) site.set(n.node, n.site);
    else if (e.type === 'freeNode') site.set(e.node, e.site);
    else continue;
    const perSite = new Map<string, number>();
    for (const [node, m] of held) {
      const used = [...m.values()].reduce((a, b) => a + b, 0);
      worstNode = Math.max(worstNode, used - slots.get(node)!);
      perSite.set(site.get(node)!, (perSite.get(site.get(node)!) ?? 0) + used);
    }
    for (const [s, used] of perSite) worstSite = Math.max(worstSite, used - cap.get(s)!);
    checked++;
  }
  return { site: worstSite, node: worstNode, checked };
}

// Slot usage replayed from the manager's event log (src/manager/event-log.ts), strictly: every
// node that moves is counted on its new site at once, one node after the other, and a VM stopped
// for stop-and-copy ('suspend') on no site until it resumes. The worst over-use of a site (slots
// held − its capacity) and of a node, over every moment of the log.
import type { readEventLog } from '../../src/manager/event-log.js';

type Ev = ReturnType<typeof readEventLog>[number];

export function replayCapacity(events: readonly Ev[]): { site: number; node: number; checked: number } {
  const cl = events.find((e) => e.type === 'cluster');
  if (!cl || cl.type !== 'cluster') throw new Error('no cluster event in the log');
  const site = new Map<string, string | null>(cl.nodes.map((n) => [n.name, n.site]));
  const slots = new Map(cl.nodes.map((n) => [n.name, n.slots]));
  const cap = new Map<string, number>();
  for (const n of cl.nodes) cap.set(n.site, (cap.get(n.site) ?? 0) + n.slots);
  const held = new Map<string, Map<string, number>>(); // node -> job -> slots
  let worstSite = -Infinity,
    worstNode = -Infinity,
    checked = 0;
  const check = () => {
    const perSite = new Map<string, number>();
    for (const [node, m] of held) {
      const used = [...m.values()].reduce((a, b) => a + b, 0);
      worstNode = Math.max(worstNode, used - slots.get(node)!);
      const s = site.get(node);
      if (s) perSite.set(s, (perSite.get(s) ?? 0) + used);
    }
    for (const [s, used] of perSite) worstSite = Math.max(worstSite, used - cap.get(s)!);
    checked++;
  };
  for (const e of events) {
    if (e.type === 'start')
      for (const n of e.nodes) held.set(n.node, new Map([...(held.get(n.node) ?? []), [e.job, n.slots]]));
    else if (e.type === 'end') for (const m of held.values()) m.delete(e.job);
    else if (e.type === 'suspend') site.set(e.node, null);
    else if (e.type === 'move') {
      for (const n of e.nodes) {
        site.set(n.node, n.to);
        check();
      }
      continue;
    } else if (e.type === 'relocated') {
      for (const n of e.nodes) {
        site.set(n.node, n.site);
        check();
      }
      continue;
    } else if (e.type === 'freeNode') site.set(e.node, e.site);
    else continue;
    check();
  }
  return { site: worstSite, node: worstNode, checked };
}

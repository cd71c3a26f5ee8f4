// The dashboard page: one EventSource for the live state (the job list, sites, links, and the
// detail of the selected job), ECharts for every chart. Everything that comes from the monitor is
// inserted as text, never as HTML (job ids and program names are the ranks' words).
/* global echarts, document, window, location, history, fetch, EventSource, URLSearchParams, Node */

const $ = (sel) => document.querySelector(sel);
let selected = new URLSearchParams(location.hash.slice(1)).get('job');
let source = null;
let last = null;
const charts = new Map();

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

const units = (v, us, base) => {
  let i = 0;
  while (Math.abs(v) >= base && i < us.length - 1) {
    v /= base;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 2 : i > 0 ? 1 : 0)} ${us[i]}`;
};
const fmtBytes = (b) => units(b, ['B', 'kB', 'MB', 'GB', 'TB'], 1000);
const fmtCount = (n) => units(n, ['', 'k', 'M', 'G'], 1000).trim();
const fmtSec = (s) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);
const pct = (f) => `${(f * 100).toFixed(1)}%`;
/** A cell that shows `text` and keeps the exact number in data-value (the tests read it). */
const num = (tag, key, value, text) => el(tag, { 'data-k': key, 'data-value': value }, text);

function chart(id) {
  let c = charts.get(id);
  if (!c) {
    c = echarts.init(document.getElementById(id), null, { renderer: 'canvas' });
    charts.set(id, c);
  }
  return c;
}
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

function connect() {
  source?.close();
  source = new EventSource(`/events${selected ? `?job=${encodeURIComponent(selected)}` : ''}`);
  source.addEventListener('state', (ev) => {
    last = JSON.parse(ev.data);
    $('#live').textContent = `live · ${new Date(last.state.now).toLocaleTimeString()}`;
    $('#live').className = 'live';
    render(last);
  });
  source.addEventListener('closed', () => {
    source.close();
    $('#live').textContent =
      `monitor stopped · last state ${last ? new Date(last.state.now).toLocaleTimeString() : ''}`;
    $('#live').className = 'live off';
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) return;
    $('#live').textContent = 'disconnected, retrying…';
    $('#live').className = 'live off';
  };
}

// Pause: the page keeps the state it shows (to read it, or to take a picture of it).
$('#pause').addEventListener('click', () => {
  if (source) {
    source.close();
    source = null;
    $('#pause').textContent = 'resume';
    $('#live').textContent = `paused · ${last ? new Date(last.state.now).toLocaleTimeString() : ''}`;
  } else {
    $('#pause').textContent = 'pause';
    connect();
  }
});

function select(id) {
  if (id === selected) return;
  selected = id;
  history.replaceState(null, '', `#job=${encodeURIComponent(id)}`);
  if (source) connect();
  else if (last) render(last);
}

function render({ state, detail }) {
  const m = state.monitor;
  $('#monitor').replaceChildren(
    el('span', {}, `connections ${m.connections}`),
    el('span', {}, `ingest ${fmtCount(m.ingestRecordsPerSecond)} records/s`),
    el('span', {}, `memory ${fmtBytes(m.rssBytes)}`),
  );
  renderJobs(state.jobs);
  if (!selected && state.jobs.length) select((state.jobs.find((j) => j.state === 'running') ?? state.jobs[0]).id);
  const job = state.jobs.find((j) => j.id === selected);
  $('#detail').hidden = !job || !detail;
  if (job && detail) renderDetail(job, detail);
  renderLinks(state.links);
  renderSites(state.sites);
  if (state.history === 'off')
    $('#history').replaceChildren(
      el('p', { class: 'note' }, 'History is off: this monitor runs without a history database.'),
    );
}

function renderJobs(jobs) {
  const rows = jobs.map((j) =>
    el(
      'tr',
      { 'data-job': j.id, class: j.id === selected ? 'sel' : '', onclick: () => select(j.id) },
      el('td', {}, j.id),
      el('td', {}, j.program),
      el('td', { 'data-k': 'state' }, j.state === 'ended' ? `ended (${j.endReason})` : 'running'),
      el('td', {}, `${j.ranksSeen}/${j.size} seen, ${j.ranksConnected} connected, ${j.ranksFinished} done`),
      el('td', { 'data-k': 'verdict', class: `verdict-${j.verdict}` }, j.verdict),
      num('td', 'crossBytesPerSecond', j.numbers.crossBytesPerSecond, `${fmtBytes(j.numbers.crossBytesPerSecond)}/s`),
      num('td', 'mpiSeconds', j.mpiSeconds, `${fmtSec(j.mpiSeconds)} (${pct(j.mpiFraction)})`),
      num('td', 'records', j.records, fmtCount(j.records)),
      num('td', 'recordsPerSecond', j.recordsPerSecond, fmtCount(j.recordsPerSecond)),
      num('td', 'droppedRecords', j.droppedRecords, `${j.droppedRecords} dropped, ${j.lostRecords} lost`),
      el('td', {}, j.epoch ?? '–'),
    ),
  );
  $('#jobs tbody').replaceChildren(...rows);
}

function renderDetail(j, d) {
  $('#detail-title').textContent = `${j.id} — ${j.program} (${j.size} ranks, ${j.state})`;
  const n = j.numbers;
  const items = [
    ['verdict', 'verdict', j.verdict, `${j.verdict}${j.rules.length ? ` (${j.rules.join(', ')})` : ''}`],
    ['wall time', 'wallSeconds', j.wallSeconds, fmtSec(j.wallSeconds)],
    ['time in MPI', 'mpiSeconds', j.mpiSeconds, `${fmtSec(j.mpiSeconds)} over all ranks`],
    ['MPI fraction', 'mpiFraction', j.mpiFraction, pct(j.mpiFraction)],
    ['records', 'records', j.records, fmtCount(j.records)],
    ['records/s', 'recordsPerSecond', j.recordsPerSecond, fmtCount(j.recordsPerSecond)],
    ['bytes (matrix)', 'bytes', j.bytes, fmtBytes(j.bytes)],
    ['messages', 'messages', j.messages, fmtCount(j.messages)],
    ['would cross sites', 'crossBytes', n.crossBytes, `${fmtBytes(n.crossBytes)} (${pct(n.crossFraction)})`],
    [
      'crossing rate',
      'crossBytesPerSecond',
      n.crossBytesPerSecond,
      `${fmtBytes(n.crossBytesPerSecond)}/s (threshold ${fmtBytes(n.thresholdBytesPerSecond)}/s)`,
    ],
    ['crossing messages/s', 'crossMessagesPerSecond', n.crossMessagesPerSecond, n.crossMessagesPerSecond.toFixed(0)],
    ['dropped records', 'droppedRecords', j.droppedRecords, String(j.droppedRecords)],
    ['lost records / batches', 'lostRecords', j.lostRecords, `${j.lostRecords} / ${j.lostBatches}`],
  ];
  $('#numbers').replaceChildren(...items.flatMap(([label, k, v, t]) => [el('dt', {}, label), num('dd', k, v, t)]));
  $('#reasons').replaceChildren(...j.reasons.map((r) => el('li', {}, r)));
  renderMatrix(d.matrix);
  const f = d.functions;
  chart('chart-functions').setOption({
    animation: false,
    grid: { left: 130, right: 20, top: 10, bottom: 30 },
    tooltip: {},
    xAxis: { type: 'value', name: 's' },
    yAxis: { type: 'category', data: f.map((x) => x.name).reverse() },
    series: [{ type: 'bar', data: f.map((x) => x.seconds).reverse(), itemStyle: { color: '#3b5bdb' } }],
  });
  const h = d.histogram;
  chart('chart-histogram').setOption({
    animation: false,
    grid: { left: 60, right: 20, top: 10, bottom: 40 },
    tooltip: {},
    xAxis: { type: 'category', data: h.bucketMinBytes.map((b) => `≥${fmtBytes(b)}`), name: 'size' },
    yAxis: { type: 'value', name: 'messages' },
    series: [{ type: 'bar', data: h.counts, itemStyle: { color: '#f08c00' } }],
  });
  renderPlacement(d.placement);
}

function renderMatrix(m) {
  const data = [];
  let max = 0;
  for (let s = 0; s < m.blocks; s++)
    for (let d = 0; d < m.blocks; d++) {
      const v = m.bytes[s * m.blocks + d];
      if (v > 0) data.push([d, s, v]);
      if (v > max) max = v;
    }
  const axis = m.labels;
  chart('chart-matrix').setOption({
    animation: false,
    tooltip: { formatter: (p) => `${axis[p.value[1]]} → ${axis[p.value[0]]}: ${fmtBytes(p.value[2])}` },
    grid: { left: 60, right: 20, top: 10, bottom: 90 },
    xAxis: { type: 'category', data: axis, name: 'destination', nameLocation: 'center', nameGap: 26 },
    yAxis: { type: 'category', data: axis, name: 'source', inverse: true },
    visualMap: {
      min: 0,
      max: Math.max(1, max),
      calculable: true,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      inRange: { color: ['#eef2ff', '#3b5bdb', '#c92a2a'] },
    },
    series: [{ type: 'heatmap', data, progressive: 0 }],
  });
}

function renderPlacement(p) {
  if (!p || !p.epochs.length) {
    $('#placement-note').textContent = p
      ? 'no placement yet'
      : 'the monitor runs without placement (no --sites, --testbed or executor)';
    $('#relocations').replaceChildren();
    return;
  }
  $('#placement-note').textContent = p.epochs
    .map((e) => `epoch ${e.epoch}: ${e.source} at ${e.jobSeconds.toFixed(1)} s — ${e.reason}`)
    .join(' · ');
  const sites = [...new Set(p.epochs.flatMap((e) => e.sites))];
  const size = p.epochs[0].siteOf.length;
  const data = p.epochs.flatMap((e, y) => e.siteOf.map((s, r) => [r, y, sites.indexOf(e.sites[s])]));
  chart('chart-placement').setOption({
    animation: false,
    grid: { left: 70, right: 20, top: 10, bottom: 60 },
    tooltip: { formatter: (q) => `rank ${q.value[0]}: site ${sites[q.value[2]]}` },
    xAxis: {
      type: 'category',
      data: Array.from({ length: size }, (_, i) => String(i)),
      name: 'rank',
      nameLocation: 'center',
      nameGap: 25,
    },
    yAxis: { type: 'category', data: p.epochs.map((e) => `epoch ${e.epoch}`) },
    visualMap: {
      type: 'piecewise',
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      pieces: sites.map((s, i) => ({ value: i, label: s })),
      inRange: { color: ['#3b5bdb', '#f08c00', '#2b8a3e', '#ae3ec9', '#c92a2a'] },
    },
    series: [{ type: 'heatmap', data }],
  });
  const head = el(
    'tr',
    {},
    ...[
      'relocation',
      'trigger',
      'ok',
      'moved ranks/VMs',
      'crossing before → after',
      'cost',
      'gain',
      'gain/cost',
      'executor',
    ].map((t) => el('th', {}, t)),
  );
  const rows = p.relocations.map((r) =>
    el(
      'tr',
      {},
      el('td', {}, `epoch ${r.epochBefore} → ${r.epochAfter}: ${r.reason}`),
      el('td', {}, r.trigger),
      el('td', {}, r.ok ? 'yes' : `no: ${r.error}`),
      el('td', {}, `${r.movedRanks} / ${r.movedVms}`),
      el('td', {}, `${fmtBytes(r.crossBytesBefore)} → ${fmtBytes(r.crossBytesAfter)}`),
      num('td', 'costSeconds', r.costSeconds, fmtSec(r.costSeconds)),
      num('td', 'gainSeconds', r.gainSeconds, fmtSec(r.gainSeconds)),
      el('td', {}, r.gainToCost === null ? '–' : r.gainToCost.toFixed(2)),
      el('td', {}, `${(r.executorMs / 1000).toFixed(2)} s`),
    ),
  );
  $('#relocations').replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
}

function renderLinks(l) {
  $('#links-note').textContent = l.source
    ? l.source === 'wanemu'
      ? "from the testbed's WAN emulator (wanemu counters)"
      : "estimated from the running jobs' matrices and where their ranks are"
    : (l.note ?? 'no data yet');
  chart('chart-links').setOption(
    {
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 70, right: 20, top: 30, bottom: 30 },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', name: 'bytes/s', axisLabel: { formatter: (v) => fmtBytes(v) } },
      series: l.links.map((name, i) => ({
        name: name.replace('>', ' → '),
        type: 'line',
        showSymbol: false,
        data: l.points.map((p) => [p.t, p.rates[i] ?? 0]),
      })),
    },
    { replaceMerge: ['series'] },
  );
}

function renderSites(s) {
  $('#sites-note').textContent = s.source ? `from the ${s.source}` : 'no site map (no testbed, no placement)';
  const nodes = s.sites.flatMap((site) => site.nodes.map((n) => ({ ...n, site: site.name })));
  chart('chart-sites').setOption({
    animation: false,
    tooltip: {},
    grid: { left: 50, right: 20, top: 10, bottom: 40 },
    xAxis: { type: 'category', data: nodes.map((n) => `${n.site}/${n.name}`) },
    yAxis: { type: 'value', name: 'ranks', minInterval: 1 },
    series: [{ type: 'bar', data: nodes.map((n) => n.ranks), itemStyle: { color: '#2b8a3e' } }],
  });
  $('#sites').replaceChildren(
    ...s.sites.map((site) =>
      el(
        'div',
        {},
        el('h3', {}, `site ${site.name}`),
        el(
          'ul',
          {},
          ...site.nodes.map((n) =>
            el('li', {}, `${n.name} (${n.host}): ${n.ranks} ranks${n.jobs.length ? ` of ${n.jobs.join(', ')}` : ''}`),
          ),
        ),
      ),
    ),
  );
}

async function loadHistory() {
  const r = await fetch('/api/history');
  const h = await r.json();
  const box = $('#history');
  if (!h.enabled)
    return box.replaceChildren(
      el('p', { class: 'note' }, 'History is off: this monitor runs without a history database.'),
    );
  if (h.error) return box.replaceChildren(el('p', { class: 'note' }, `history: ${h.error}`));
  const cols = [...new Set(h.jobs.flatMap((j) => Object.keys(j).filter((k) => typeof j[k] !== 'object')))];
  box.replaceChildren(
    el(
      'table',
      { class: 'grid' },
      el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', {}, c)))),
      el('tbody', {}, ...h.jobs.map((j) => el('tr', {}, ...cols.map((c) => el('td', {}, j[c] ?? ''))))),
    ),
  );
}

for (const b of document.querySelectorAll('nav button'))
  b.addEventListener('click', () => {
    for (const x of document.querySelectorAll('nav button')) x.classList.toggle('on', x === b);
    for (const t of document.querySelectorAll('.tab')) t.hidden = t.id !== `tab-${b.dataset.tab}`;
    if (b.dataset.tab === 'history') void loadHistory();
    charts.forEach((c) => c.resize());
  });

connect();

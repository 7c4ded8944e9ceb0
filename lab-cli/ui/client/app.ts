// The page's script (runs in the browser, no framework): one server-sent-events stream brings the
// hosts' states, their events and the ladder; the address bar, the Run buttons and the workshop
// controls post to the server, which runs the same code as the CLI.
export {};

interface LabEvent {
  ts: number;
  host: string;
  kind: string;
  summary: string;
}
interface HostStatus {
  host: string;
  state: string;
  reason?: string;
}
interface Scenario {
  name: string;
  title: string;
  story: string;
  journey: { step: number; what: string }[];
  steps: string[];
  error?: string;
}
interface Verdict {
  name: string;
  verdict: string;
  reason?: string;
  failures: string[];
  run?: string;
  files: string[];
}

const token = document.body.dataset.token ?? '';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, text = '', cls = '') => {
  const e = document.createElement(tag);
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
};
const withToken = (path: string) =>
  `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(withToken(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as T;
}

function links(run: string | undefined, files: string[]): HTMLElement {
  const p = el('div', '', 'links');
  for (const f of files) {
    const a = el('a', f) as HTMLAnchorElement;
    a.href = withToken(`/runs/${encodeURIComponent(run ?? '')}/${encodeURIComponent(f)}`);
    a.target = '_blank';
    p.append(a);
  }
  return p;
}

// ---- hosts on the topology drawing: state and health
function showStatus(list: HostStatus[]) {
  for (const s of list) {
    const g = document.querySelector(`#topology .host[data-host="${s.host}"]`);
    if (!g) continue;
    g.setAttribute('class', `host ${s.state}`);
    const state = g.querySelector('.state');
    if (state)
      state.textContent =
        s.reason && s.state !== 'running' ? `${s.state}: ${s.reason}`.slice(0, 18) : s.state;
    const title = g.querySelector('title');
    if (title) title.textContent = `${s.host}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`;
  }
}

// ---- the events, as a timeline filterable by host and kind
const MAX_SHOWN = 800;
const allEvents: LabEvent[] = [];
const shown = (e: LabEvent) =>
  (!$<HTMLSelectElement>('filter-host').value || e.host === $<HTMLSelectElement>('filter-host').value) &&
  e.kind.includes($<HTMLInputElement>('filter-kind').value.trim());

function eventItem(e: LabEvent): HTMLElement {
  const li = el('li');
  li.dataset.kind = e.kind;
  const t = new Date(e.ts / 1000).toISOString().slice(11, 23);
  li.append(
    el('span', `${t} `),
    el('span', e.host, 'h'),
    el('span', e.kind, 'k'),
    el('span', ` ${e.summary}`),
  );
  return li;
}

function addEvents(list: LabEvent[]) {
  allEvents.push(...list);
  if (allEvents.length > 5000) allEvents.splice(0, allEvents.length - 5000);
  const ul = $('events');
  const box = $('timeline');
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 30;
  for (const e of list) if (shown(e)) ul.append(eventItem(e));
  while (ul.childElementCount > MAX_SHOWN) ul.firstElementChild?.remove();
  if (atBottom) box.scrollTop = box.scrollHeight;
  $('event-count').textContent = `${allEvents.length} events`;
  document.documentElement.dataset.events = String(allEvents.length);
  for (const e of list) flash(e.host);
}

function refilter() {
  $('events').replaceChildren(...allEvents.filter(shown).slice(-MAX_SHOWN).map(eventItem));
}

/** a host that just did something gets a thick border for a moment */
function flash(host: string) {
  const g = document.querySelector(`#topology .host[data-host="${host}"]`);
  if (!g) return;
  g.classList.add('busy');
  setTimeout(() => g.classList.remove('busy'), 600);
}

// ---- the ladder: the same page as a run's ladder.html, redrawn as events arrive
function showLadder(l: { html: string; messages: number }) {
  const frame = $<HTMLIFrameElement>('ladder-frame');
  frame.onload = () => {
    const doc = frame.contentDocument;
    if (!doc) return;
    // live, the arrows get the whole width: a run's ladder.html keeps the panel of events and frames
    const style = doc.createElement('style');
    style.textContent = '#panel{display:none}header div{display:none}';
    doc.head.append(style);
    doc.scrollingElement?.scrollTo(0, doc.scrollingElement.scrollHeight);
  };
  frame.srcdoc = l.html;
  $('ladder-count').textContent = `(${l.messages} messages)`;
  document.documentElement.dataset.ladderMessages = String(l.messages);
}

// ---- the address bar: `lab browse`
interface BrowseResult {
  finalUrl?: string;
  status?: number;
  error?: { code: string; step: string; message: string };
  painted?: string[];
  waterfall?: string[];
  run?: string;
  files?: string[];
}

async function browse(ev: Event) {
  ev.preventDefault();
  const text = $<HTMLInputElement>('omnibox').value.trim();
  if (!text) return;
  const line = $('status-line');
  line.className = '';
  line.textContent = `loading ${text}…`;
  const r = await post<BrowseResult>('/api/browse', {
    text,
    dns: $<HTMLSelectElement>('dns').value,
    noCache: $<HTMLInputElement>('nocache').checked,
  });
  line.className = r.error ? 'err' : 'ok';
  line.textContent = r.error
    ? `✗ ${r.error.code} (${r.error.step}): ${r.error.message}`
    : `${r.status} ${r.finalUrl}`;
  $('painted').textContent = (r.painted ?? []).join('\n');
  $('waterfall').textContent = (r.waterfall ?? []).join('\n');
  $('browse-files').replaceChildren(links(r.run, r.files ?? []));
  document.documentElement.dataset.browsed = r.error ? r.error.code : String(r.status);
}

// ---- the scenarios: story, journey steps, Run, verdict and the run's files
async function loadScenarios() {
  const res = await fetch(withToken('/api/scenarios'));
  const list = (await res.json()) as Scenario[];
  $('scenario-list').replaceChildren(...list.map(scenarioItem));
}

function scenarioItem(sc: Scenario): HTMLElement {
  const d = el('details', '', 'scenario');
  d.dataset.scenario = sc.name;
  const summary = el('summary');
  const run = el('button', 'Run') as HTMLButtonElement;
  run.dataset.run = sc.name;
  run.addEventListener('click', (ev) => {
    ev.preventDefault();
    void runScenario(sc.name);
  });
  summary.append(
    el('span', sc.title || sc.name, 'title'),
    el('span', ` ${sc.name}`),
    run,
    el('span', '', 'verdict'),
  );
  const journey = el('ol');
  for (const j of sc.journey) {
    const li = el('li', `JOURNEY ${j.step}: ${j.what}`);
    li.setAttribute('value', String(j.step));
    journey.append(li);
  }
  const steps = el('ol');
  for (const s of sc.steps) steps.append(el('li', s));
  d.append(
    summary,
    el('p', sc.error ?? sc.story),
    el('div', 'journey steps:'),
    journey,
    el('div', 'steps:'),
    steps,
    el('div', '', 'links'),
  );
  return d;
}

async function runScenario(name: string) {
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-run]')) b.disabled = true;
  $('runlog').textContent = '';
  const item = document.querySelector(`.scenario[data-scenario="${name}"]`);
  const v = item?.querySelector('.verdict');
  if (v) {
    v.className = 'verdict';
    v.textContent = 'running…';
  }
  try {
    const r = await post<Verdict & { error?: string }>('/api/run', { name });
    if (r.error) showVerdict({ name, verdict: 'failed', failures: [r.error], files: [] });
  } finally {
    for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-run]')) b.disabled = false;
  }
}

function showVerdict(r: Verdict) {
  const item = document.querySelector(`.scenario[data-scenario="${r.name}"]`);
  if (!item) return;
  const v = item.querySelector('.verdict');
  if (v) {
    v.className = `verdict ${r.verdict}`;
    v.textContent = r.verdict.toUpperCase();
  }
  item.querySelector('.links')?.replaceWith(links(r.run, r.files));
  document.documentElement.dataset.verdict = `${r.name}:${r.verdict}`;
}

function runLine(r: { line: string }) {
  const log = $('runlog');
  log.textContent += `${r.line}\n`;
  log.scrollTop = log.scrollHeight;
}

// ---- workshop controls: each a scenario action by name
const controlArgs: Record<string, () => unknown> = {
  'ca.revoke': () => $<HTMLInputElement>('revoke-name').value.trim(),
  'block.add': () => $<HTMLInputElement>('block-rule').value.trim(),
  'block.clear': () => null,
  'cache.purge': () => $<HTMLInputElement>('purge-url').value.trim(),
  'dns.flush': () => null,
  'host.stop': () => $<HTMLSelectElement>('host-name').value,
  'host.start': () => $<HTMLSelectElement>('host-name').value,
};

async function control(name: string) {
  const out = $('control-result');
  out.className = '';
  out.textContent = `${name}…`;
  const r = await post<{ ok: boolean; what?: string; detail?: string }>('/api/control', {
    control: name,
    args: controlArgs[name]?.() ?? null,
  });
  out.className = r.ok ? 'done' : 'bad';
  out.textContent = `${r.ok ? '✓' : '✗'} ${r.what ?? name}${r.detail ? `: ${r.detail}` : ''}`;
}

// ---- wiring
function connect() {
  const stream = new EventSource(withToken('/events'));
  const on = <T>(type: string, fn: (data: T) => void) =>
    stream.addEventListener(type, (m) => fn(JSON.parse((m as MessageEvent<string>).data) as T));
  stream.onopen = () => {
    $('live').className = 'on';
    $('live').textContent = 'live';
  };
  stream.onerror = () => {
    $('live').className = 'off';
    $('live').textContent = 'reconnecting';
  };
  on<HostStatus[]>('status', showStatus);
  on<LabEvent[]>('events', addEvents);
  on<{ html: string; messages: number }>('ladder', showLadder);
  on<{ line: string }>('run', runLine);
  on<Verdict>('verdict', showVerdict);
}

$('address').addEventListener('submit', (ev) => void browse(ev));
$('filter-host').addEventListener('change', refilter);
$('filter-kind').addEventListener('input', refilter);
for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-control]'))
  b.addEventListener('click', () => void control(b.dataset.control ?? ''));
connect();
void loadScenarios();

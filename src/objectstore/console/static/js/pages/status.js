// Server status (admins): GET /_admin/status — version, uptime, storage, request rate
// (measured between two readings, refreshed while the page is open), gateways.

import { api } from '../api.js';
import {
  clear, el, formatBytes, formatDate, formatDuration, loading, pageHeader, table,
} from '../ui.js';
import { button, errorArea, showError } from '../forms.js';

const REFRESH_MS = 5000;
const FIRST_GAP_MS = 2000;

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

/** {status, at (ms)} */
async function reading() {
  const status = await api.admin('GET', '/status');
  return { status, at: performance.now() };
}

/** Requests per second between two readings (null when it cannot be told). */
export function rateBetween(a, b) {
  if (!a || !b) return null;
  const dt = (b.at - a.at) / 1000;
  const n = Number(b.status.requests && b.status.requests.total)
    - Number(a.status.requests && a.status.requests.total);
  if (!(dt > 0) || !Number.isFinite(n) || n < 0) return null;
  return n / dt;
}

function num(n) {
  if (n === undefined || n === null || Number.isNaN(Number(n))) return '—';
  return Number(n).toLocaleString('en-US');
}

function rate(r) {
  return r === null || r === undefined ? '—' : `${Number(r).toFixed(1)} requests/s`;
}

function list(title, pairs) {
  return el('section', { class: 'c-card', 'aria-labelledby': `h-${title}` },
    el('h2', { id: `h-${title}` }, title),
    el('dl', { class: 'c-facts' }, pairs.map(([k, v]) => [el('dt', null, k),
      el('dd', { 'data-testid': `status-${testId(k)}` }, v)])));
}

/** 'Rate (measured)' → 'rate-measured'. */
function testId(label) {
  return label.toLowerCase().replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '');
}

export async function render(main, params, ctx) {
  const signal = (ctx && ctx.signal) || new AbortController().signal;
  if (ctx && ctx.setTitle) ctx.setTitle('Server status');
  clear(main);
  const error = errorArea();
  const body = el('div', { class: 'c-status-page' }, loading());
  const stamp = el('p', { class: 'c-help' });
  let previous = null;
  let measured = null;

  const show = (r) => {
    const s = r.status;
    const st = s.storage || {};
    const rq = s.requests || {};
    clear(body);
    body.append(el('div', { class: 'c-cards' },
      list('Server', [
        ['Version', s.version || '—'],
        ['Started', formatDate(s.started)],
        ['Uptime', s.uptimeSeconds === undefined ? '—' : formatDuration(s.uptimeSeconds)],
        ['Metadata store', s.metaStore || '—'],
        ['Gateway', s.gateway || '—'],
      ]),
      list('Storage', [
        ['Data directory', st.dataDir || '—'],
        ['Used', formatBytes(st.bytesUsed)],
        ['Free', formatBytes(st.bytesFree)],
        ['Objects', num(st.objects)],
        ['Buckets', num(st.buckets)],
      ]),
      list('Requests', [
        ['Total', num(rq.total)],
        ['Errors', rq.errors === null || rq.errors === undefined ? 'not counted'
          : num(rq.errors)],
        ['Rate (measured)', measured === null ? 'measuring…' : rate(measured)],
        ['Rate (server)', rate(rq.ratePerSecond)],
      ]),
    ));
    const gateways = s.gateways || [];
    body.append(el('h2', null, 'Gateways'), el('div', { class: 'table-wrap' }, table([
      { label: 'Gateway', render: (g) => g.id || '' },
      { label: 'Host', render: (g) => g.host || '' },
      { label: 'Started', render: (g) => formatDate(g.started) },
      { label: 'Last seen', render: (g) => formatDate(g.lastSeen) },
    ], gateways, { caption: `${gateways.length} gateway${gateways.length === 1 ? '' : 's'}`,
      empty: 'No gateways reported (a single server).' })));
    stamp.textContent = `Updated ${formatDate(Date.now())}.`;
  };

  const refresh = async () => {
    try {
      const r = await reading();
      if (signal.aborted) return;
      if (previous) measured = rateBetween(previous, r);
      previous = r;
      showError(error, null);
      show(r);
    } catch (err) {
      showError(error, err);
      if (!previous) clear(body);
    }
  };

  main.append(pageHeader('Server status', button('Refresh', () => refresh())), error, stamp,
    body);
  await refresh();
  (async () => {
    await sleep(FIRST_GAP_MS, signal);
    while (!signal.aborted && main.isConnected) {
      await refresh();
      await sleep(REFRESH_MS, signal);
    }
  })();
}

// The console's entry point: reads /config.json, keeps the header in step with the session,
// and routes the location hash to a page module (loaded on demand by dynamic import).
// Each page module exports `async function render(main, params, ctx)`.

import { api } from './api.js';
import { clear, el, errorBox, formatDuration, toast } from './ui.js';

/** The route table. `pattern` is matched against the hash's path (without '#' and the
 * '?query'); named groups become params (each '/'-separated segment URI-decoded). `when`
 * narrows a route on the hash's query; `open` routes need no session; `admin` routes show
 * in the navigation for admins only (the server still decides what anyone may do). */
export const routes = [
  { name: 'signin', pattern: /^\/signin$/, open: true, load: () => import('./pages/signin.js') },
  { name: 'buckets', pattern: /^\/?$/, load: () => import('./pages/buckets.js') },
  { name: 'buckets', pattern: /^\/buckets$/, load: () => import('./pages/buckets.js') },
  { name: 'settings', pattern: /^\/settings\/(?<bucket>[^/?]+)\/?$/,
    load: () => import('./pages/settings.js') },
  { name: 'settings', pattern: /^\/b\/(?<bucket>[^/?]+)\/?$/, when: (q) => 'settings' in q,
    load: () => import('./pages/settings.js') },
  { name: 'objects', pattern: /^\/b\/(?<bucket>[^/?]+)(?:\/(?<prefix>.*))?$/,
    load: () => import('./pages/objects.js') },
  { name: 'object', pattern: /^\/o\/(?<bucket>[^/?]+)\/(?<key>.+)$/,
    load: () => import('./pages/object.js') },
  { name: 'images', pattern: /^\/images$/, load: () => import('./pages/images.js') },
  { name: 'admin', pattern: /^\/admin(?:\/(?<section>[^/?]+))?\/?$/, admin: true,
    load: () => import('./pages/admin.js') },
  { name: 'status', pattern: /^\/status$/, admin: true, load: () => import('./pages/status.js') },
];

function decodeSegments(s) {
  return s.split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  }).join('/');
}

/** {route, params, query} for a location hash ('#/b/x/y'), or null. */
export function match(hash) {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  const qi = h.indexOf('?');
  const path = qi < 0 ? h : h.slice(0, qi);
  const query = {};
  if (qi >= 0) {
    for (const part of h.slice(qi + 1).split('&')) {
      if (!part) continue;
      const i = part.indexOf('=');
      const k = i < 0 ? part : part.slice(0, i);
      const v = i < 0 ? '' : part.slice(i + 1);
      try {
        query[decodeURIComponent(k)] = decodeURIComponent(v);
      } catch {
        query[k] = v;
      }
    }
  }
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m || (route.when && !route.when(query))) continue;
    const params = {};
    for (const [k, v] of Object.entries(m.groups || {})) {
      params[k] = v === undefined ? '' : decodeSegments(v);
    }
    return { route, params, query };
  }
  return null;
}

let config = null;
let current = null; // {controller}
let whoamiAsked = false; // GET /_admin/whoami tried once per page load when sign-in had none

function navigate(hash, { replace = false } = {}) {
  if (location.hash === hash) {
    route();
  } else if (replace) {
    history.replaceState(null, '', hash);
    route();
  } else {
    location.hash = hash;
  }
}

function updateHeader(name) {
  const session = api.session();
  const nav = document.getElementById('nav');
  const userbox = document.getElementById('userbox');
  nav.hidden = !session;
  userbox.hidden = !session;
  const isAdmin = Boolean(session && session.whoami && session.whoami.isAdmin);
  for (const li of document.querySelectorAll('[data-admin]')) li.hidden = !isAdmin;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (session) {
    const who = session.whoami;
    document.getElementById('user-name').textContent = who
      ? `${who.user}${who.account ? ' @ ' + who.account : ''}` : session.sourceKey || '';
    updateClock();
  }
}

function updateClock() {
  const left = document.getElementById('session-left');
  if (!left) return;
  const s = api.session();
  const secs = s ? api.sessionRemaining() : 0;
  left.textContent = s && Number.isFinite(secs) ? `session: ${formatDuration(secs)} left` : '';
}

async function route() {
  const mainEl = document.getElementById('main');
  const hash = location.hash || '#/buckets';
  if (!hash.startsWith('#/')) return; // e.g. the skip link's #main
  if (current) current.controller.abort();
  const controller = new AbortController();
  current = { controller };
  let found = match(hash);
  const session = api.session();
  if (!found) {
    clear(mainEl);
    mainEl.append(el('h1', { tabindex: '-1' }, 'Not found'),
      el('p', null, 'This page does not exist. '), el('a', { href: '#/buckets' },
        'Go to the buckets'));
    updateHeader('');
    return;
  }
  if (!found.route.open && !session) {
    const back = hash;
    found = match('#/signin');
    found.params.next = back;
  } else if (found.route.name === 'signin' && session) {
    navigate('#/buckets', { replace: true });
    return;
  }
  updateHeader(found.route.name);
  if (session && !session.whoami && !whoamiAsked) {
    whoamiAsked = true;
    api.whoami().then(() => updateHeader(found.route.name));
  }
  const page = el('div', { class: `page page-${found.route.name}` });
  clear(mainEl);
  mainEl.appendChild(page);
  document.title = 'objectstore console';
  const ctx = {
    config,
    api,
    signal: controller.signal,
    query: found.query,
    session: api.session(),
    navigate,
    refreshHeader: () => updateHeader(found.route.name),
    setTitle: (t) => { document.title = `${t} — objectstore console`; },
  };
  try {
    const mod = await found.route.load();
    if (controller.signal.aborted) return;
    await mod.render(page, found.params, ctx);
  } catch (e) {
    if (controller.signal.aborted) return;
    if (!page.querySelector('h1')) page.appendChild(el('h1', { tabindex: '-1' }, 'Error'));
    page.appendChild(errorBox(e));
  }
  if (controller.signal.aborted) return;
  const h1 = page.querySelector('h1');
  if (h1 && !page.contains(document.activeElement)) {
    if (!h1.hasAttribute('tabindex')) h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
}

async function start() {
  try {
    const res = await fetch('config.json', { cache: 'no-store', credentials: 'omit' });
    config = res.ok ? await res.json() : {};
  } catch {
    config = {};
  }
  if (!config.endpoint) config.endpoint = location.origin;
  api.configure(config);
  document.getElementById('signout').addEventListener('click', async () => {
    await api.signOut();
    toast('Signed out.', 'success');
    navigate('#/signin');
  });
  document.getElementById('skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main').focus();
  });
  window.addEventListener('objectstore:session-expired', () => {
    if (location.hash.startsWith('#/signin')) return;
    api.signOut();
    toast('Your session has expired or was revoked; please sign in again.', 'error');
    navigate('#/signin');
  });
  window.addEventListener('hashchange', route);
  setInterval(() => {
    updateClock();
    if (!api.session() && !location.hash.startsWith('#/signin')) {
      const mainEl = document.getElementById('main');
      if (mainEl.querySelector('.page') && !mainEl.querySelector('.page-signin')) {
        window.dispatchEvent(new CustomEvent('objectstore:session-expired'));
      }
    }
  }, 15000);
  await route();
}

start();

// DOM helpers. Every piece of data reaches the page as text (textContent / text nodes):
// never innerHTML, so a key named <img src=x onerror=alert(1)> shows as those characters.

let idCounter = 0;

/** A fresh element id (for label/for, aria-labelledby...). */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * el('button', {class: 'primary', onclick: fn, 'data-testid': 'x', disabled: true}, 'Text')
 * attrs: on* functions become event listeners; class/className; for/htmlFor; dataset via
 * data-*; aria-* and other names via setAttribute; booleans true → present, false → absent;
 * value/checked/selected/indeterminate/hidden are set as properties. `style` is refused (CSP).
 * children: strings/numbers become text nodes; nodes are appended; arrays are flattened;
 * null/undefined/false are skipped.
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'style') throw new Error('el(): use classes, not style attributes (CSP)');
      if (name.startsWith('on') && typeof value === 'function') {
        node.addEventListener(name.slice(2).toLowerCase(), value);
      } else if (name === 'class' || name === 'className') {
        node.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      } else if (name === 'for' || name === 'htmlFor') {
        node.htmlFor = value;
      } else if (name === 'selected') {
        node.defaultSelected = Boolean(value);
        node.selected = Boolean(value);
      } else if (name === 'checked') {
        node.defaultChecked = Boolean(value);
        node.checked = Boolean(value);
      } else if (['value', 'indeterminate', 'hidden', 'disabled',
        'multiple', 'required', 'readOnly', 'open'].includes(name)) {
        node[name] = value;
      } else if (name === 'text') {
        node.textContent = String(value);
      } else {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

/** Removes every child of node; returns node. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** A short message in the live region (#toasts). kind: 'info' | 'success' | 'error'. */
export function toast(msg, kind = 'info', ms = 6000) {
  let region = document.getElementById('toasts');
  if (!region) {
    region = el('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(region);
  }
  const close = el('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' },
    '×');
  const item = el('div', { class: ['toast', `toast-${kind}`], 'data-testid': 'toast' },
    el('span', null, String(msg)), close);
  close.addEventListener('click', () => item.remove());
  region.appendChild(item);
  if (ms > 0) setTimeout(() => item.remove(), kind === 'error' ? ms * 2 : ms);
  return item;
}

/** "AccessDenied: Access Denied (request 1234)" for an ApiError; the message otherwise. */
export function errorText(err) {
  if (!err) return 'Unknown error';
  if (err.code) {
    let s = err.message && err.message !== err.code ? `${err.code}: ${err.message}` : err.code;
    if (err.requestId) s += ` (request ${err.requestId})`;
    return s;
  }
  return err.message || String(err);
}

/** An inline error message (role=alert, data-testid=error). */
export function errorBox(err) {
  return el('p', { class: 'error', role: 'alert', 'data-testid': 'error' },
    typeof err === 'string' ? err : errorText(err));
}

/** Shows an error as a toast with kind 'error' (and returns it). */
export function toastError(err, prefix = '') {
  return toast((prefix ? prefix + ': ' : '') + errorText(err), 'error');
}

/**
 * A modal <dialog> with a heading; `body` is a node (or array), `actions` an array of
 * {label, value, kind ('primary' | 'danger'), onClick(dialog) → value|Promise} buttons.
 * Resolves the chosen action's value (undefined on Escape / Cancel). Focus moves into the
 * dialog (the first field, else the first button) and returns to where it was afterwards.
 */
export function openDialog({ title, body, actions = [], cancelLabel = 'Cancel', wide = false,
  testid }) {
  return new Promise((resolve) => {
    const headingId = uid('dlg');
    const previous = document.activeElement;
    const dialog = el('dialog', { class: ['dialog', wide && 'dialog-wide'],
      'aria-labelledby': headingId, 'data-testid': testid });
    const status = el('div', { class: 'dialog-status', role: 'alert' });
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (previous && previous.focus && document.contains(previous)) previous.focus();
      resolve(value);
    };
    const buttons = actions.map((a) => el('button', {
      type: 'button', class: a.kind || 'primary',
      onclick: async () => {
        if (!a.onClick) {
          finish(a.value);
          return;
        }
        clear(status);
        buttons.forEach((b) => { b.disabled = true; });
        try {
          const v = await a.onClick(dialog);
          if (v !== false) finish(v === undefined ? a.value : v);
        } catch (e) {
          status.appendChild(errorBox(e));
        } finally {
          buttons.forEach((b) => { b.disabled = false; });
        }
      },
    }, a.label));
    const cancel = cancelLabel ? el('button', { type: 'button', class: 'secondary',
      onclick: () => finish(undefined) }, cancelLabel) : null;
    // the body is a form: Enter in a field runs the first action (CSP form-action 'none'
    // forbids a real submission, and none is made)
    const form = el('form', { class: 'dialog-body', novalidate: true }, body);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (buttons[0] && !buttons[0].disabled) buttons[0].click();
    });
    dialog.append(
      el('h2', { id: headingId }, title),
      form,
      status,
      el('div', { class: 'dialog-actions' }, buttons, cancel),
    );
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(undefined);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = dialog.querySelector('.dialog-body input:not([type=hidden]), '
      + '.dialog-body select, .dialog-body textarea') || buttons[0] || cancel;
    if (first) first.focus();
    dialog.finish = finish;
  });
}

/** A yes/no question in a <dialog>; resolves true when confirmed. */
export async function confirmDialog(title, text, { danger = false, confirmLabel } = {}) {
  const body = Array.isArray(text) ? text.map((t) => (t instanceof Node ? t : el('p', null, t)))
    : (text instanceof Node ? text : el('p', null, text));
  const v = await openDialog({ title, body, actions: [{ label: confirmLabel
    || (danger ? 'Delete' : 'OK'), value: true, kind: danger ? 'danger' : 'primary' }] });
  return v === true;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n) {
  if (n === undefined || n === null || n === '' || Number.isNaN(Number(n))) return '—';
  let v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** An ISO 8601 / HTTP date (or epoch ms) as local "2026-11-30 12:00:00"; '—' when absent. */
export function formatDate(iso) {
  if (iso === undefined || iso === null || iso === '') return '—';
  const d = typeof iso === 'number' ? new Date(iso) : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `
    + `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Seconds as "1 h 5 min" / "7 days". */
export function formatDuration(s) {
  s = Math.max(0, Math.floor(s));
  if (s >= 86400) {
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    return `${d} day${d === 1 ? '' : 's'}${h ? ` ${h} h` : ''}`;
  }
  if (s >= 3600) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return `${h} h${m ? ` ${m} min` : ''}`;
  }
  if (s >= 60) return `${Math.floor(s / 60)} min`;
  return `${s} s`;
}

/**
 * A table. columns: [{label, render(row) → Node|string, class?}] ('label' may be '' for an
 * action column; it is still given an accessible name via aria-label `ariaLabel`).
 * options: {caption, selectable (checkbox per row, "select all" in the header), rowTestId,
 * rowLabel(row) (the checkbox's accessible name), empty (text when no rows), onSelect}.
 * Returns the <table> element (wrapped scrolling is up to CSS) with table.selectedRows().
 */
export function table(columns, rows, { caption, selectable = false, rowTestId, rowLabel,
  empty = 'Nothing here.', onSelect, ariaLabel } = {}) {
  const t = el('table', { class: 'data', 'aria-label': caption ? null : ariaLabel });
  if (caption) t.appendChild(el('caption', null, caption));
  const boxes = [];
  let all = null;
  const changed = () => {
    const n = boxes.filter((b) => b.checked).length;
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    if (onSelect) onSelect(t.selectedRows());
  };
  const head = el('tr');
  if (selectable) {
    all = el('input', { type: 'checkbox', 'aria-label': 'Select all rows',
      onchange: () => {
        boxes.forEach((b) => { b.checked = all.checked; });
        changed();
      } });
    head.appendChild(el('th', { scope: 'col', class: 'select' }, all));
  }
  for (const c of columns) {
    head.appendChild(el('th', { scope: 'col', class: c.class },
      c.label ? c.label : el('span', { class: 'visually-hidden' }, c.ariaLabel || 'Actions')));
  }
  t.appendChild(el('thead', null, head));
  const body = el('tbody');
  rows.forEach((row, i) => {
    const tr = el('tr', { 'data-testid': rowTestId });
    if (selectable) {
      const box = el('input', { type: 'checkbox', 'aria-label': rowLabel ? `Select ${rowLabel(row)}`
        : `Select row ${i + 1}`, onchange: changed });
      box.rowData = row;
      boxes.push(box);
      tr.appendChild(el('td', { class: 'select' }, box));
    }
    for (const c of columns) {
      const v = c.render ? c.render(row) : row[c.key];
      tr.appendChild(el('td', { class: c.class }, v === undefined || v === null ? '' : v));
    }
    body.appendChild(tr);
  });
  if (!rows.length) {
    body.appendChild(el('tr', null, el('td', { colspan: String(columns.length
      + (selectable ? 1 : 0)), class: 'empty' }, empty)));
  }
  t.appendChild(body);
  t.selectedRows = () => boxes.filter((b) => b.checked).map((b) => b.rowData);
  t.clearSelection = () => {
    boxes.forEach((b) => { b.checked = false; });
    changed();
  };
  return t;
}

/** A labelled form field: <div class=field><label for>label</label>input [hint]</div>.
 * The input gets an id when it has none. */
export function field(label, input, hint) {
  if (!input.id) input.id = uid('f');
  const parts = [el('label', { for: input.id }, label)];
  const wrap = el('div', { class: ['field', input.type === 'checkbox' && 'field-check'] });
  if (hint) {
    const hid = uid('hint');
    const h = el('p', { class: 'hint', id: hid }, hint);
    input.setAttribute('aria-describedby', hid);
    if (input.type === 'checkbox') wrap.append(input, ...parts, h);
    else wrap.append(...parts, input, h);
  } else if (input.type === 'checkbox') {
    wrap.append(input, ...parts);
  } else {
    wrap.append(...parts, input);
  }
  return wrap;
}

/**
 * Tabs (WAI-ARIA tabs pattern: arrow keys move, Home/End). items: [{id, label,
 * render(panel) (may be async)}]; options {label (aria-label of the tablist), selected (id),
 * onChange(id)}. Returns the container; container.select(id) switches.
 */
export function tabs(items, { label = 'Sections', selected, onChange } = {}) {
  const list = el('div', { role: 'tablist', 'aria-label': label, class: 'tabs' });
  const panels = el('div', { class: 'tab-panels' });
  const box = el('div', { class: 'tabbed' }, list, panels);
  const buttons = [];
  const select = async (id, focus = false) => {
    const item = items.find((x) => x.id === id) || items[0];
    buttons.forEach((b) => {
      const on = b.dataset.tab === item.id;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      if (on && focus) b.focus();
    });
    clear(panels);
    const panel = el('div', { role: 'tabpanel', id: `panel-${item.id}`,
      'aria-labelledby': `tab-${item.id}`, tabindex: '0', class: 'tab-panel' });
    panels.appendChild(panel);
    if (onChange) onChange(item.id);
    try {
      await item.render(panel);
    } catch (e) {
      panel.appendChild(errorBox(e));
    }
  };
  items.forEach((item, i) => {
    const b = el('button', { type: 'button', role: 'tab', id: `tab-${item.id}`,
      'aria-controls': `panel-${item.id}`, 'data-tab': item.id, class: 'tab',
      onclick: () => select(item.id),
      onkeydown: (e) => {
        let j = null;
        if (e.key === 'ArrowRight') j = (i + 1) % items.length;
        else if (e.key === 'ArrowLeft') j = (i - 1 + items.length) % items.length;
        else if (e.key === 'Home') j = 0;
        else if (e.key === 'End') j = items.length - 1;
        if (j !== null) {
          e.preventDefault();
          select(items[j].id, true);
        }
      } }, item.label);
    buttons.push(b);
    list.appendChild(b);
  });
  box.select = select;
  if (items.length) select(selected || items[0].id);
  return box;
}

/** The page heading row: <div class=page-head><h1>title</h1> actions…</div>. */
export function pageHeader(title, ...actions) {
  return el('div', { class: 'page-head' }, el('h1', { tabindex: '-1' }, title),
    el('div', { class: 'page-actions' }, actions));
}

/** A "Loading…" placeholder (aria-busy). */
export function loading(text = 'Loading…') {
  return el('p', { class: 'loading', 'aria-busy': 'true' }, text);
}

/** A hash link built from raw path segments, each encoded: hashLink(['b', bucket, ...]). */
export function hashHref(...segments) {
  return '#/' + segments.map((s) => encodeURIComponent(s)).join('/');
}

/** Links inside the console. */
export const href = {
  buckets: () => '#/buckets',
  objects: (bucket, prefix = '') => '#/b/' + encodeURIComponent(bucket)
    + (prefix ? '/' + prefix.split('/').map(encodeURIComponent).join('/') : ''),
  object: (bucket, key) => '#/o/' + encodeURIComponent(bucket) + '/'
    + key.split('/').map(encodeURIComponent).join('/'),
  settings: (bucket) => '#/settings/' + encodeURIComponent(bucket),
  images: () => '#/images',
  admin: (section = 'users') => '#/admin/' + encodeURIComponent(section),
  status: () => '#/status',
};

/** Copies text to the clipboard (navigator.clipboard when available — a secure context —,
 * else selecting the given input and execCommand('copy')). Resolves true on success. */
export async function copyText(text, input) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall through to the legacy way */ }
  if (input) {
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
  return false;
}

// Small form helpers for the settings, images and administration pages, built on ui.js:
// every text goes in with textContent, every control gets a visible <label>.

import { el, errorText, field, table, uid } from './ui.js';

/** A <button type=button> that runs `handler` on click. */
export function button(text, handler, attrs = {}) {
  return el('button', { type: 'button', class: 'secondary', ...attrs, onclick: handler }, text);
}

/** A labelled text input: {row, input}. `attrs` go on the input. */
export function input(label, attrs = {}, hint = '') {
  const node = el('input', { type: 'text', ...attrs });
  return { row: field(label, node, hint || undefined), input: node };
}

/** A labelled <textarea>: {row, input}. */
export function textarea(label, attrs = {}, hint = '') {
  const node = el('textarea', { spellcheck: 'false', ...attrs });
  return { row: field(label, node, hint || undefined), input: node };
}

/** A labelled <select> of [value, text] options: {row, input}. */
export function select(label, options, value = '', attrs = {}) {
  const node = el('select', attrs, options.map(([v, t]) => el('option', { value: v }, t)));
  node.value = value;
  return { row: field(label, node), input: node };
}

/** A checkbox with its label: {row, input}. */
export function checkbox(label, checked = false, attrs = {}) {
  const node = el('input', { type: 'checkbox', ...attrs });
  node.checked = Boolean(checked);
  return { row: field(label, node), input: node };
}

/** A group of radio buttons in a <fieldset>: {row, selected()}. */
export function radios(legend, options, value) {
  const name = uid('radio');
  const inputs = options.map(([v]) => {
    const r = el('input', { type: 'radio', name, value: v });
    r.checked = v === value;
    return r;
  });
  const row = el('fieldset', { class: 'c-fieldset' }, el('legend', null, legend),
    options.map(([, text], i) => {
      inputs[i].id = uid('r');
      return el('div', { class: 'field field-check' }, inputs[i],
        el('label', { for: inputs[i].id }, text));
    }));
  return { row, selected: () => (inputs.find((r) => r.checked) || { value: '' }).value };
}

/** A <fieldset> with a legend around rows. */
export function fieldset(legend, ...rows) {
  return el('fieldset', { class: 'c-fieldset' }, el('legend', null, legend), rows);
}

/** A row of buttons. */
export function actions(...buttons) {
  return el('div', { class: 'c-actions' }, buttons);
}

/** An error area (role=alert, data-testid=error) that stays hidden while empty. */
export function errorArea() {
  return el('p', { class: 'error', role: 'alert', 'data-testid': 'error', hidden: true });
}

/** Shows an error (ApiError → "Code: message (request …)") or a sentence; null clears. */
export function showError(box, err) {
  if (err === null || err === undefined || err === '') {
    box.textContent = '';
    box.hidden = true;
    return;
  }
  box.textContent = typeof err === 'string' ? err : errorText(err);
  box.hidden = false;
}

/** Runs `work` with `btn` disabled; an error goes to `box` (cleared first). → success. */
export async function attempt(btn, box, work) {
  if (box) showError(box, null);
  if (btn) btn.disabled = true;
  try {
    await work();
    return true;
  } catch (err) {
    if (!box) throw err;
    showError(box, err);
    return false;
  } finally {
    if (btn) btn.disabled = false;
  }
}

/** A whole number > 0 from a text field; null when empty; throws a sentence otherwise. */
export function positiveInt(text, name) {
  const s = String(text).trim();
  if (s === '') return null;
  if (!/^[0-9]+$/.test(s) || Number(s) <= 0) {
    throw new Error(`${name} must be a whole number above 0.`);
  }
  return Number(s);
}

/** Yes/No text. */
export function yesNo(value) {
  return value ? 'Yes' : 'No';
}

/** "1 rule" / "2 rules". */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** ui.table over rows given as arrays of cells (text or nodes), one header per cell. */
export function grid(caption, headers, rows, options = {}) {
  return el('div', { class: 'table-wrap' }, table(headers.map((label, i) => ({ label,
    render: (r) => r[i] })), rows, { caption, ...options }));
}

/** The main action of a form: a primary <button type=button>. */
export function primary(text, handler, attrs = {}) {
  return button(text, handler, { ...attrs, class: 'primary' });
}

/** Remembers where the keyboard focus is (inside `scope`) before a table is re-rendered;
 *  the returned function puts it back once the focus was lost: on the control with the same
 *  name, else on the first control of the same row (matched by its first cell), else on the
 *  table's caption — not at the start of the page. */
export function focusMemo(scope = document.getElementById('main')) {
  const was = document.activeElement;
  if (!scope || !was || was === document.body || !scope.contains(was)) return () => {};
  const name = was.getAttribute('aria-label') || was.textContent;
  const row = was.closest('tr');
  const key = row && row.cells.length ? row.cells[0].textContent : null;
  const caption = row && row.closest('table') && row.closest('table').caption
    ? row.closest('table').caption.textContent : null;
  return () => {
    const now = document.activeElement;
    if (now && now !== document.body && document.contains(now)) return;
    const controls = Array.from(scope.querySelectorAll('button:not([disabled]), a[href]'));
    const same = controls.find((c) => (c.getAttribute('aria-label') || c.textContent) === name);
    const inRow = key === null ? undefined : controls.find((c) => {
      const tr = c.closest('tr');
      return tr && tr.cells.length && tr.cells[0].textContent === key;
    });
    const target = same || inRow || Array.from(scope.querySelectorAll('caption'))
      .find((c) => caption === null || c.textContent === caption);
    if (!target) return;
    if (target.tagName === 'CAPTION') target.tabIndex = -1;
    target.focus();
  };
}

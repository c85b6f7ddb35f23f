// Shared helpers of the administration sections: a reloadable table area, row actions
// that keep the keyboard focus, account and user lists, and the one-time secret dialog.

import { api } from '../api.js';
import { clear, copyText, el, errorText, loading, openDialog, toast, uid } from '../ui.js';
import { button, errorArea, focusMemo, showError } from '../forms.js';

export function q(value) {
  return encodeURIComponent(value);
}

/** A section body that can reload itself: load(body) → fills body. */
export function reloadable(parent, load) {
  const error = errorArea();
  const body = el('div');
  parent.append(error, body);
  const reload = async () => {
    showError(error, null);
    clear(body);
    body.append(loading());
    try {
      const nodes = await load();
      clear(body);
      body.append(nodes);
    } catch (err) {
      clear(body);
      showError(error, err);
    }
  };
  return { reload, error };
}

/** Runs an action from a table row: errors as toasts, a success toast, then reload. */
export async function rowAction(btn, work, done, reload) {
  const restore = focusMemo();
  btn.disabled = true;
  try {
    const result = await work();
    if (done) toast(done, 'success');
    await reload();
    restore();
    return result;
  } catch (err) {
    toast(errorText(err), 'error');
    return undefined;
  } finally {
    btn.disabled = false;
  }
}

export function wrapTable(t) {
  return el('div', { class: 'table-wrap' }, t);
}

export async function listAccounts() {
  return (await api.admin('GET', '/accounts')) || [];
}

export async function listUsers(account) {
  return (await api.admin('GET', account ? `/users?account=${q(account)}` : '/users')) || [];
}

/** Options of a <select> from names, with a first "none" entry. */
export function options(names, first) {
  return [['', first], ...names.map((n) => [n, n])];
}

/** The dialog that shows a new key's secret, once, with copy buttons and a warning; the
 *  secret is cleared from the page when it closes. */
export async function secretDialog(key) {
  const ak = el('input', { type: 'text', readOnly: true, value: key.accessKey,
    class: 'c-code', id: uid('ak') });
  const secret = el('input', { type: 'text', readOnly: true, value: key.secret,
    class: 'c-code', id: uid('secret'), autocomplete: 'off', spellcheck: 'false' });
  const copier = (what, node) => button(`Copy ${what}`, async (e) => {
    const ok = await copyText(node.value, node);
    e.target.textContent = ok ? `Copied ${what}` : 'Select and copy it';
  });
  const row = (label, node, what) => el('div', { class: 'field c-copyrow' },
    el('label', { for: node.id }, label), node, copier(what, node));
  await openDialog({
    title: `Access key for ${key.user}`,
    testid: 'secret-dialog',
    wide: true,
    body: [
      el('p', { class: 'warning', role: 'note' }, 'This is the only time the secret key is '
        + 'shown. Copy it now and keep it safe: it cannot be shown again (rotate the key if '
        + 'it is lost).'),
      row('Access key ID', ak, 'access key ID'),
      row('Secret access key', secret, 'secret'),
    ],
    actions: [{ label: 'I have saved the secret', value: true }],
    cancelLabel: '',
  });
  secret.value = '';
}

// Administration: identity policies of users and the account-wide public access block.

import { api } from '../api.js';
import {
  clear, confirmDialog, el, loading, table, toast,
} from '../ui.js';
import {
  actions, attempt, button, checkbox, errorArea, fieldset, select, showError, textarea,
} from '../forms.js';
import { jsonProblem, PAB_FLAGS } from '../bucketconfig.js';
import { pabSummary } from './people.js';
import {
  listAccounts, listUsers, options, wrapTable,
} from './common.js';

// ------------------------------------------------------------------ identity policies

export async function policiesSection(section, query) {
  let failure = null;
  const [users, canned] = await Promise.all([
    listUsers('').catch((err) => { failure = err; return []; }),
    api.admin('GET', '/policies').catch(() => []),
  ]);
  const user = select('User', options(users.map((u) => u.name), 'Choose a user'),
    query.user || '');
  const error = errorArea();
  if (failure) showError(error, failure);
  section.append(error, el('div', { class: 'c-filter' }, user.row));
  const area = el('div');
  section.append(area);
  const show = async () => {
    clear(area);
    if (!user.input.value) {
      area.append(el('p', { class: 'c-help' }, 'Choose a user to see and change its identity '
        + 'policy.'));
      return;
    }
    area.append(loading());
    await policyEditor(area, user.input.value, canned || []);
  };
  user.input.addEventListener('change', show);
  await show();
  if (canned && canned.length) {
    section.append(el('h2', null, 'Canned policies'), wrapTable(table([
      { label: 'Name', render: (p) => p.name },
      { label: 'Description', render: (p) => p.description || '' },
    ], canned, { caption: 'Canned policies' })));
  }
}

async function policyEditor(area, name, canned) {
  let current = null;
  let loadError = null;
  try {
    current = await api.admin('GET', `/users/${name}/policy`);
  } catch (err) {
    if (!['NoSuchEntity', 'NoSuchPolicy', 'NotFound', 'NoSuchKey'].includes(err.code)) {
      loadError = err;
    }
  }
  clear(area);
  const error = errorArea();
  const status = el('p', { class: 'c-status', role: 'status' });
  status.textContent = loadError ? 'Could not load the policy.'
    : (current ? `${name} has a policy attached.` : `${name} has no identity policy.`);
  if (loadError) showError(error, loadError);
  const text = typeof current === 'string' ? current : (current ? JSON.stringify(current, null,
    2) : '');

  const pick = select('Canned policy', [['', 'Choose a canned policy'],
    ...canned.map((p) => [p.name, p.name])]);
  const about = el('p', { class: 'c-help', 'aria-live': 'polite' });
  pick.input.addEventListener('change', () => {
    const p = canned.find((x) => x.name === pick.input.value);
    about.textContent = p ? p.description || '' : '';
  });
  const attachCanned = button('Attach canned policy', async () => {
    const p = canned.find((x) => x.name === pick.input.value);
    if (!p) return showError(error, 'Choose a canned policy first.');
    const ok = await attempt(attachCanned, error, () => api.admin('PUT', `/users/${name}/policy`,
      typeof p.document === 'string' ? JSON.parse(p.document) : p.document));
    if (ok) {
      toast(`${p.name} attached to ${name}.`, 'success');
      await policyEditor(area, name, canned);
    }
  }, { class: 'primary' });

  const editor = textarea('Policy document (JSON)', { rows: '14', class: 'c-code',
    value: text });
  const note = el('p', { class: 'c-note', 'aria-live': 'polite' });
  const check = () => {
    const problem = jsonProblem(editor.input.value);
    showError(error, problem);
    note.textContent = problem ? '' : 'The JSON is well formed.';
    return problem === null;
  };
  const fromCanned = button('Copy canned policy into the editor', () => {
    const p = canned.find((x) => x.name === pick.input.value);
    if (!p) return showError(error, 'Choose a canned policy first.');
    editor.input.value = typeof p.document === 'string' ? p.document
      : JSON.stringify(p.document, null, 2);
    note.textContent = `${p.name} copied into the editor: adjust it, then attach it.`;
    return undefined;
  });
  const checkBtn = button('Check JSON', check);
  const attach = button('Attach custom policy', async () => {
    note.textContent = '';
    if (!check()) return;
    note.textContent = '';
    // Sent as typed (the server's validator reports on the document as it is).
    const ok = await attempt(attach, error, () => api.admin('PUT', `/users/${name}/policy`,
      JSON.parse(editor.input.value)));
    if (ok) {
      toast(`Custom policy attached to ${name}.`, 'success');
      await policyEditor(area, name, canned);
    }
  }, { class: 'primary' });
  const detach = button('Detach policy', async () => {
    if (!await confirmDialog(`Detach the policy of ${name}?`, `${name} keeps only what its `
      + 'account and bucket policies allow.', { danger: true, confirmLabel: 'Detach' })) return;
    const ok = await attempt(detach, error, () => api.admin('DELETE', `/users/${name}/policy`));
    if (ok) {
      toast(`Policy of ${name} detached.`, 'success');
      await policyEditor(area, name, canned);
    }
  }, { class: 'danger' });
  detach.disabled = !current;
  area.append(el('h2', null, `Policy of ${name}`), status, error,
    fieldset('Canned', pick.row, about, actions(attachCanned, fromCanned)),
    fieldset('Custom', editor.row, note, actions(checkBtn, attach)),
    actions(detach));
}

// ------------------------------------------------------------------ account public access block

export async function publicAccessSection(section, query) {
  let failure = null;
  const accounts = await listAccounts().catch((err) => { failure = err; return []; });
  const error = errorArea();
  if (failure) showError(error, failure);
  const account = select('Account', options(accounts.map((a) => a.name), 'Choose an account'),
    query.account || (accounts.length === 1 ? accounts[0].name : ''));
  section.append(el('p', { class: 'c-help' }, 'The account-wide public access block applies '
    + 'to every bucket of the account, on top of each bucket\'s own block.'),
  error, el('div', { class: 'c-filter' }, account.row));
  const area = el('div');
  section.append(area);
  const show = async () => {
    clear(area);
    if (!account.input.value) return;
    area.append(loading());
    await pabEditor(area, account.input.value);
  };
  account.input.addEventListener('change', show);
  await show();
}

async function pabEditor(area, name) {
  const error = errorArea();
  let block = null;
  let failed = null;
  try {
    block = await api.admin('GET', `/accounts/${name}/public-access-block`);
  } catch (err) {
    if (!['NoSuchPublicAccessBlockConfiguration', 'NoSuchEntity', 'NotFound'].includes(err.code)) {
      failed = err;
    }
  }
  clear(area);
  const status = el('p', { class: 'c-status', role: 'status' },
    failed ? 'Could not load the public access block.'
      : (block ? `Configured: ${pabSummary(block)}.` : 'Not configured.'));
  if (failed) showError(error, failed);
  const boxes = PAB_FLAGS.map(([flag, label]) => [flag, checkbox(label, block && block[flag])]);
  const save = button('Save public access block', async () => {
    const body = {};
    for (const [flag, b] of boxes) body[flag] = b.input.checked;
    const ok = await attempt(save, error, () => api.admin('PUT',
      `/accounts/${name}/public-access-block`, body));
    if (ok) {
      toast(`Public access block of ${name} saved.`, 'success');
      await pabEditor(area, name);
    }
  }, { class: 'primary' });
  const remove = button('Remove public access block', async () => {
    const ok = await attempt(remove, error, () => api.admin('DELETE',
      `/accounts/${name}/public-access-block`));
    if (ok) {
      toast(`Public access block of ${name} removed.`, 'success');
      await pabEditor(area, name);
    }
  }, { class: 'danger' });
  remove.disabled = !block;
  area.append(el('h2', null, `Public access block of ${name}`), status, error,
    fieldset('Block settings', boxes.map(([, b]) => b.row)), actions(save, remove));
}

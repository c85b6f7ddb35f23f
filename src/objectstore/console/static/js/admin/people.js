// Administration: users, accounts and access keys.

import { api } from '../api.js';
import {
  confirmDialog, el, formatDate, hashHref, table, toast,
} from '../ui.js';
import {
  actions, attempt, button, checkbox, errorArea, input, select, showError, yesNo,
} from '../forms.js';
import { PAB_FLAGS } from '../bucketconfig.js';
import {
  listAccounts, listUsers, options, q, reloadable, rowAction, secretDialog, wrapTable,
} from './common.js';

// ------------------------------------------------------------------ users

export async function usersSection(section, query) {
  const accounts = await listAccounts().catch(() => []);
  const names = accounts.map((a) => a.name);
  const filter = select('Show users of account', options(names, 'All accounts'),
    query.account || '');
  section.append(el('div', { class: 'c-filter' }, filter.row));
  const { reload } = reloadable(section, async () => {
    const users = await listUsers(filter.input.value);
    return wrapTable(table([
      { label: 'User', render: (u) => u.name },
      { label: 'Account', render: (u) => u.account },
      { label: 'Admin', render: (u) => yesNo(u.admin) },
      { label: 'Policy', render: (u) => el('a', { href: `${hashHref('admin', 'policies')}`
        + `?user=${q(u.name)}`, 'aria-label': `${u.hasPolicy ? 'Attached' : 'None'}: policy of `
        + u.name }, u.hasPolicy ? 'Attached' : 'None') },
      { label: 'Access keys', render: (u) => el('a', { href: `${hashHref('admin', 'keys')}`
        + `?user=${q(u.name)}`, 'aria-label': `${u.keys ?? 0} access keys of ${u.name}` },
      String(u.keys ?? 0)) },
      { label: 'Created', render: (u) => formatDate(u.created) },
      { label: '', ariaLabel: 'Actions', render: (u) => {
        const newKey = button('New key', async () => {
          const key = await rowAction(newKey, () => api.admin('POST', '/keys', { user: u.name }),
            null, reload);
          if (key) await secretDialog(key);
        }, { 'aria-label': `New key for ${u.name}` });
        const del = button('Delete', async () => {
          if (!await confirmDialog(`Delete user ${u.name}?`, 'Its access keys and sessions are '
            + 'deleted too.', { danger: true, confirmLabel: 'Delete user' })) return;
          await rowAction(del, () => api.admin('DELETE', `/users/${u.name}`),
            `User ${u.name} deleted.`, reload);
        }, { class: 'danger', 'aria-label': `Delete user ${u.name}` });
        return el('div', { class: 'c-row-actions' }, newKey, del);
      } },
    ], users, { caption: filter.input.value ? `Users of ${filter.input.value}` : 'Users',
      rowTestId: 'user-row', empty: 'No users.' }));
  });
  filter.input.addEventListener('change', reload);

  const error = errorArea();
  const name = input('User name', { autocomplete: 'off', required: true });
  const account = select('Account', options(names, 'Choose an account'), query.account || '');
  const admin = checkbox('Administrator (may use this page and the admin API)');
  const create = el('button', { type: 'submit', class: 'primary' }, 'Create user');
  const form = el('form', { class: 'c-form', 'aria-labelledby': 'new-user-h' },
    el('h2', { id: 'new-user-h' }, 'Create a user'), name.row, account.row, admin.row, error,
    actions(create));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!name.input.value.trim()) return showError(error, 'Give the user a name.');
    if (!account.input.value) return showError(error, 'Choose the account of the user.');
    const ok = await attempt(create, error, async () => {
      const u = await api.admin('POST', '/users', { name: name.input.value.trim(),
        account: account.input.value, admin: admin.input.checked });
      toast(`User ${u && u.name ? u.name : name.input.value.trim()} created.`, 'success');
    });
    if (ok) {
      name.input.value = '';
      admin.input.checked = false;
      await reload();
    }
  });
  section.append(form);
  await reload();
}

// ------------------------------------------------------------------ accounts

export async function accountsSection(section) {
  const { reload } = reloadable(section, async () => {
    const accounts = await listAccounts();
    return wrapTable(table([
      { label: 'Account', render: (a) => a.name },
      { label: 'Number', render: (a) => el('code', { title: a.id || '' },
        a.accountNumber || a.id || '') },
      { label: 'Email', render: (a) => a.email || '' },
      { label: 'Public access block', render: (a) => pabSummary(a.publicAccessBlock) },
      { label: 'Created', render: (a) => formatDate(a.created) },
      { label: '', ariaLabel: 'Actions', render: (a) => {
        const users = el('a', { href: `${hashHref('admin', 'users')}?account=${q(a.name)}`,
          'aria-label': `Users of ${a.name}` }, 'Users');
        const block = el('a', { href: `${hashHref('admin', 'public-access')}`
          + `?account=${q(a.name)}`, 'aria-label': `Public access block of ${a.name}` },
        'Public access');
        const del = button('Delete', async () => {
          if (!await confirmDialog(`Delete account ${a.name}?`, 'An account that still owns '
            + 'buckets or users cannot be deleted.',
            { danger: true, confirmLabel: 'Delete account' })) return;
          await rowAction(del, () => api.admin('DELETE', `/accounts/${a.name}`),
            `Account ${a.name} deleted.`, reload);
        }, { class: 'danger', 'aria-label': `Delete account ${a.name}` });
        return el('div', { class: 'c-row-actions' }, users, block, del);
      } },
    ], accounts, { caption: 'Accounts', rowTestId: 'account-row', empty: 'No accounts.' }));
  });
  const error = errorArea();
  const name = input('Account name', { autocomplete: 'off', required: true });
  const email = input('Email (optional)', { type: 'email', autocomplete: 'off' });
  const create = el('button', { type: 'submit', class: 'primary' }, 'Create account');
  const form = el('form', { class: 'c-form', 'aria-labelledby': 'new-account-h' },
    el('h2', { id: 'new-account-h' }, 'Create an account'), name.row, email.row, error,
    actions(create));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!name.input.value.trim()) return showError(error, 'Give the account a name.');
    const body = { name: name.input.value.trim() };
    if (email.input.value.trim()) body.email = email.input.value.trim();
    const ok = await attempt(create, error, async () => {
      await api.admin('POST', '/accounts', body);
      toast(`Account ${body.name} created.`, 'success');
    });
    if (ok) {
      name.input.value = '';
      email.input.value = '';
      await reload();
    }
  });
  section.append(form);
  await reload();
}

export function pabSummary(block) {
  if (!block) return 'Not configured';
  const on = PAB_FLAGS.filter(([n]) => block[n]).map(([n]) => n);
  if (!on.length) return 'All off';
  return on.length === PAB_FLAGS.length ? 'All on' : on.join(', ');
}

// ------------------------------------------------------------------ access keys

export async function keysSection(section, query) {
  const users = await listUsers('').catch(() => []);
  const names = users.map((u) => u.name);
  const filter = select('Show keys of user', options(names, 'All users'), query.user || '');
  section.append(el('div', { class: 'c-filter' }, filter.row));
  const { reload } = reloadable(section, async () => {
    const user = filter.input.value;
    const keys = (await api.admin('GET', user ? `/keys?user=${q(user)}` : '/keys')) || [];
    return wrapTable(table([
      { label: 'Access key ID', render: (k) => el('code', null, k.accessKey) },
      { label: 'User', render: (k) => k.user },
      { label: 'Status', render: (k) => el('span', { class: `c-state c-key-${k.status}` },
        k.status) },
      { label: 'Created', render: (k) => formatDate(k.created) },
      { label: '', ariaLabel: 'Actions', render: (k) => keyActions(k, reload) },
    ], keys, { caption: user ? `Access keys of ${user}` : 'Access keys', rowTestId: 'key-row',
      empty: 'No access keys.' }));
  });
  filter.input.addEventListener('change', reload);

  const error = errorArea();
  const owner = select('User', options(names, 'Choose a user'), query.user || '');
  const create = el('button', { type: 'submit', class: 'primary' }, 'Create access key');
  const form = el('form', { class: 'c-form', 'aria-labelledby': 'new-key-h' },
    el('h2', { id: 'new-key-h' }, 'Create an access key'),
    el('p', { class: 'c-help' }, 'The secret is shown once, right after it is made.'),
    owner.row, error, actions(create));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!owner.input.value) return showError(error, 'Choose the user the key is for.');
    let key = null;
    const ok = await attempt(create, error, async () => {
      key = await api.admin('POST', '/keys', { user: owner.input.value });
    });
    if (ok && key) {
      await secretDialog(key);
      await reload();
    }
  });
  section.append(form);
  await reload();
}

function keyActions(k, reload) {
  const ak = k.accessKey;
  const active = k.status === 'Active';
  const toggle = button(active ? 'Deactivate' : 'Activate', async () => {
    if (active && !await confirmDialog(`Deactivate ${ak}?`, 'Requests signed with it are '
      + 'refused (InvalidAccessKeyId) and its sessions end, until it is activated again.',
    { confirmLabel: 'Deactivate' })) return;
    await rowAction(toggle, () => api.admin('PUT', `/keys/${ak}`,
      { status: active ? 'Inactive' : 'Active' }),
    `${ak} ${active ? 'deactivated' : 'activated'}.`, reload);
  }, { 'aria-label': `${active ? 'Deactivate' : 'Activate'} ${ak}` });
  const rotate = button('Rotate', async () => {
    if (!await confirmDialog(`Rotate ${ak}?`, 'A new key is made for the same user and this '
      + 'one is made Inactive (delete it once nothing uses it).', { confirmLabel: 'Rotate' })) {
      return;
    }
    const key = await rowAction(rotate, () => api.admin('POST', `/keys/${ak}/rotate`), null,
      reload);
    if (key) await secretDialog(key);
  }, { 'aria-label': `Rotate ${ak}` });
  const del = button('Delete', async () => {
    if (!await confirmDialog(`Delete ${ak}?`, `The key of ${k.user} and its sessions stop `
      + 'working at once. This cannot be undone.',
      { danger: true, confirmLabel: 'Delete key' })) return;
    await rowAction(del, () => api.admin('DELETE', `/keys/${ak}`), `${ak} deleted.`, reload);
  }, { class: 'danger', 'aria-label': `Delete ${ak}` });
  return el('div', { class: 'c-row-actions' }, toggle, rotate, del);
}

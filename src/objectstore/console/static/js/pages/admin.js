// Administration (admins): accounts, users, access keys, identity policies and the
// account-wide public access block, through the signed JSON admin API /_admin (docs/admin-api.md).
// The server decides who may do what; a non-admin sees its AccessDenied answers.

import { api } from '../api.js';
import {
  clear, confirmDialog, copyText, el, errorText, formatDate, hashHref, loading, openDialog,
  pageHeader, table, toast, uid,
} from '../ui.js';
import {
  actions, attempt, button, checkbox, errorArea, fieldset, focusMemo, input, select, showError,
  textarea, yesNo,
} from '../forms.js';
import { jsonProblem, PAB_FLAGS } from '../bucketconfig.js';

const SECTIONS = [
  ['users', 'Users', usersSection],
  ['accounts', 'Accounts', accountsSection],
  ['keys', 'Access keys', keysSection],
  ['policies', 'Policies', policiesSection],
  ['public-access', 'Public access', publicAccessSection],
  ['sessions', 'Sessions', sessionsSection],
];

/** #/admin/{section}[?user=…|?account=…] */
export async function render(main, params, ctx) {
  const id = SECTIONS.some(([s]) => s === params.section) ? params.section : 'users';
  const [, label, build] = SECTIONS.find(([s]) => s === id);
  const query = (ctx && ctx.query) || {};
  if (ctx && ctx.setTitle) ctx.setTitle(`Administration: ${label}`);
  clear(main);
  main.append(pageHeader(`Administration: ${label}`));
  main.append(el('nav', { 'aria-label': 'Administration', class: 'c-subnav' },
    el('ul', null, SECTIONS.map(([s, text]) => el('li', null, el('a', {
      href: hashHref('admin', s), 'aria-current': s === id ? 'page' : null,
    }, text))))));
  const who = ctx && ctx.session && ctx.session.whoami;
  if (who && !who.isAdmin) {
    main.append(el('p', { class: 'c-note' }, 'You are not an administrator: the server will '
      + 'refuse most of what this page asks for.'));
  }
  const section = el('div', { class: 'c-admin-section' });
  main.append(section);
  await build(section, query, ctx);
}

// ------------------------------------------------------------------ helpers

function q(value) {
  return encodeURIComponent(value);
}

/** A section body that can reload itself: load(body) → fills body. */
function reloadable(parent, load) {
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
async function rowAction(btn, work, done, reload) {
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

function wrapTable(t) {
  return el('div', { class: 'table-wrap' }, t);
}

async function listAccounts() {
  return (await api.admin('GET', '/accounts')) || [];
}

async function listUsers(account) {
  return (await api.admin('GET', account ? `/users?account=${q(account)}` : '/users')) || [];
}

/** Options of a <select> from names, with a first "none" entry. */
function options(names, first) {
  return [['', first], ...names.map((n) => [n, n])];
}

/** The dialog that shows a new key's secret, once, with copy buttons and a warning. */
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

// ------------------------------------------------------------------ users

async function usersSection(section, query) {
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

async function accountsSection(section) {
  const { reload } = reloadable(section, async () => {
    const accounts = await listAccounts();
    return wrapTable(table([
      { label: 'Account', render: (a) => a.name },
      { label: 'ID', render: (a) => el('code', null, a.id || '') },
      { label: 'Email', render: (a) => a.email || '' },
      { label: 'Public access block', render: (a) => pabSummary(a.publicAccessBlock) },
      { label: 'Created', render: (a) => formatDate(a.created) },
      { label: '', ariaLabel: 'Actions', render: (a) => {
        const users = el('a', { href: `${hashHref('admin', 'users')}?account=${q(a.name)}`,
          'aria-label': `Users of ${a.name}` }, 'Users');
        const block = el('a', { href: `${hashHref('admin', 'public-access')}`
          + `?account=${q(a.name)}`, 'aria-label': `Public access block of ${a.name}` },
        'Public access block');
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

function pabSummary(block) {
  if (!block) return 'Not configured';
  const on = PAB_FLAGS.filter(([n]) => block[n]).map(([n]) => n);
  if (!on.length) return 'All off';
  return on.length === PAB_FLAGS.length ? 'All on' : on.join(', ');
}

// ------------------------------------------------------------------ access keys

async function keysSection(section, query) {
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

// ------------------------------------------------------------------ identity policies

async function policiesSection(section, query) {
  const [users, canned] = await Promise.all([
    listUsers('').catch(() => []),
    api.admin('GET', '/policies').catch(() => []),
  ]);
  const user = select('User', options(users.map((u) => u.name), 'Choose a user'),
    query.user || '');
  section.append(el('div', { class: 'c-filter' }, user.row));
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

async function publicAccessSection(section, query) {
  const accounts = await listAccounts().catch(() => []);
  const account = select('Account', options(accounts.map((a) => a.name), 'Choose an account'),
    query.account || (accounts.length === 1 ? accounts[0].name : ''));
  section.append(el('p', { class: 'c-help' }, 'The account-wide public access block applies '
    + 'to every bucket of the account, on top of each bucket\'s own block.'),
  el('div', { class: 'c-filter' }, account.row));
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

// ------------------------------------------------------------------ sessions

async function sessionsSection(section, query, ctx) {
  const mine = ctx && ctx.session ? ctx.session.accessKeyId : '';
  section.append(el('p', { class: 'c-help' }, 'Console and other session credentials '
    + '(GetSessionToken) that have not expired. Revoking one ends it at once.'));
  const { reload } = reloadable(section, async () => {
    const sessions = (await api.admin('GET', '/sessions')) || [];
    return wrapTable(table([
      { label: 'Session key', render: (x) => el('code', null, x.accessKey) },
      { label: 'User', render: (x) => x.user + (x.accessKey === mine ? ' (this session)' : '') },
      { label: 'From key', render: (x) => el('code', null, x.sourceKey || '') },
      { label: 'Created', render: (x) => formatDate(x.created) },
      { label: 'Expires', render: (x) => formatDate(x.expiration) },
      { label: '', ariaLabel: 'Actions', render: (x) => {
        const revoke = button('Revoke', async () => {
          if (!await confirmDialog(`Revoke ${x.accessKey}?`, x.accessKey === mine
            ? 'This is your own session: you will be signed out.'
            : `The session of ${x.user} ends at once.`, { danger: true,
            confirmLabel: 'Revoke' })) return;
          await rowAction(revoke, () => api.admin('DELETE', `/sessions/${x.accessKey}`),
            `Session ${x.accessKey} revoked.`, reload);
        }, { class: 'danger', 'aria-label': `Revoke ${x.accessKey}` });
        return revoke;
      } },
    ], sessions, { caption: 'Sessions', rowTestId: 'session-row', empty: 'No sessions.' }));
  });
  await reload();
}

// Administration: session credentials (GetSessionToken) and their revocation.

import { api } from '../api.js';
import {
  confirmDialog, el, formatDate, table,
} from '../ui.js';
import {
  button,
} from '../forms.js';
import {
  reloadable, rowAction, wrapTable,
} from './common.js';

// ------------------------------------------------------------------ sessions

export async function sessionsSection(section, query, ctx) {
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

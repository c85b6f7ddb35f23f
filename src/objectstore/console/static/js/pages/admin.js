// Administration (admins): accounts, users, access keys, identity policies and the
// account-wide public access block, through the signed JSON admin API /_admin (docs/admin-api.md).
// The server decides who may do what; a non-admin sees its AccessDenied answers.

import { clear, el, hashHref, pageHeader } from '../ui.js';
import { accountsSection, keysSection, usersSection } from '../admin/people.js';
import { policiesSection, publicAccessSection } from '../admin/rules.js';
import { sessionsSection } from '../admin/sessions.js';

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

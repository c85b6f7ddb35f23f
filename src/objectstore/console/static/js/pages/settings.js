// Bucket settings: one tab per S3 bucket configuration, each loaded with its S3 Get* call
// ("not configured" on the error code S3 answers for that) and saved with Put*/Delete*.

import { clear, el, href, pageHeader, tabs } from '../ui.js';
import {
  accessSection, corsSection, ownershipSection, policySection, publicAccessBlockSection,
} from '../settings/access.js';
import {
  encryptionSection, lifecycleSection, objectLockSection, versioningSection,
} from '../settings/storage.js';
import { loggingSection, tagsSection, websiteSection } from '../settings/site.js';

/** The sections, in tab order: [id, label, builder]. */
const SECTIONS = [
  ['access', 'Access', accessSection],
  ['public-access-block', 'Public access block', publicAccessBlockSection],
  ['ownership', 'Ownership', ownershipSection],
  ['policy', 'Policy', policySection],
  ['cors', 'CORS', corsSection],
  ['versioning', 'Versioning', versioningSection],
  ['object-lock', 'Object Lock', objectLockSection],
  ['lifecycle', 'Lifecycle', lifecycleSection],
  ['encryption', 'Encryption', encryptionSection],
  ['website', 'Website', websiteSection],
  ['logging', 'Logging', loggingSection],
  ['tags', 'Tags', tagsSection],
];

/** #/settings/{bucket}[?tab=cors] (or #/b/{bucket}?settings). */
export async function render(main, params, ctx) {
  const bucket = params.bucket;
  if (ctx && ctx.setTitle) ctx.setTitle(`Settings of ${bucket}`);
  clear(main);
  main.append(
    el('nav', { 'aria-label': 'Breadcrumbs', class: 'breadcrumbs' }, el('ol', null,
      el('li', null, el('a', { href: href.buckets() }, 'Buckets')),
      el('li', null, el('a', { href: href.objects(bucket) }, bucket)),
      el('li', null, el('span', { 'aria-current': 'page' }, 'Settings')))),
    pageHeader(`Settings of ${bucket}`),
  );
  const query = (ctx && ctx.query) || {};
  const wanted = SECTIONS.some(([id]) => id === query.tab) ? query.tab : SECTIONS[0][0];
  main.append(tabs(SECTIONS.map(([id, label, build]) => ({
    id, label, render: (panel) => build(panel, bucket),
  })), { label: 'Bucket settings', selected: wanted }));
}

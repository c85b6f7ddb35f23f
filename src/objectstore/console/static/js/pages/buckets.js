// Buckets: the list (object counts and sizes from GET /_admin/buckets, a statistics query;
// plain ListBuckets when the admin API is not there), create, delete.

import { api, xmlAll, xmlText, xmlEscape } from '../api.js';
import {
  el, errorBox, errorText, field, formatBytes, formatDate, href, loading, openDialog,
  pageHeader, table, toast, confirmDialog,
} from '../ui.js';

const NAME_RULE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Why a bucket name is not acceptable ('' when it is). */
export function bucketNameProblem(name) {
  if (name.length < 3 || name.length > 63) return 'A bucket name has 3 to 63 characters.';
  if (!NAME_RULE.test(name)) {
    return 'Use lower-case letters, digits, dots and hyphens; start and end with a letter '
      + 'or digit.';
  }
  if (/\.\.|\.-|-\./.test(name)) return 'Dots may not be next to each other or to a hyphen.';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'A bucket name may not look like an IP address.';
  return '';
}

async function listBuckets() {
  try {
    const rows = await api.admin('GET', '/buckets');
    if (Array.isArray(rows)) return { rows, stats: true };
  } catch (e) {
    if (e.code === 'NetworkError' || e.code === 'ExpiredToken' || e.code === 'InvalidToken') {
      throw e;
    }
  }
  const a = await api.s3('GET', '/');
  const rows = xmlAll(a.xml, 'Bucket').map((b) => ({
    name: xmlText(b, 'Name'), created: xmlText(b, 'CreationDate'),
  }));
  return { rows, stats: false };
}

export async function render(main, params, ctx) {
  ctx.setTitle('Buckets');
  const createBtn = el('button', { type: 'button' }, 'Create bucket');
  const refreshBtn = el('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const body = el('div', { class: 'bucket-list' });
  const goName = el('input', { type: 'text', name: 'go', autocomplete: 'off',
    spellcheck: 'false', autocapitalize: 'none' });
  const go = el('form', { class: 'toolbar', onsubmit: (e) => {
    e.preventDefault();
    const n = goName.value.trim();
    if (n) ctx.navigate(href.objects(n));
  } }, field('Open a bucket by name', goName, 'For buckets you may read but not list.'),
  el('button', { type: 'submit', class: 'secondary' }, 'Open'));
  main.append(pageHeader('Buckets', createBtn, refreshBtn), body, go);

  async function load() {
    body.replaceChildren(loading());
    let result;
    try {
      result = await listBuckets();
    } catch (e) {
      body.replaceChildren(errorBox(e));
      return;
    }
    if (ctx.signal.aborted) return;
    const { rows, stats } = result;
    rows.sort((x, y) => (x.name < y.name ? -1 : 1));
    const columns = [
      { label: 'Name', class: 'name', render: (b) => el('a', { href: href.objects(b.name) },
        b.name) },
    ];
    if (stats) {
      columns.push(
        { label: 'Objects', class: 'num', render: (b) => Number(b.objects || 0)
          .toLocaleString('en-US') },
        { label: 'Size', class: 'num', render: (b) => formatBytes(b.bytes || 0) },
        { label: 'Versioning', render: (b) => b.versioning || 'Off' },
        { label: 'Object lock', render: (b) => (b.objectLock ? 'On' : 'Off') },
      );
    }
    columns.push(
      { label: 'Created', render: (b) => formatDate(b.created) },
      { label: '', ariaLabel: 'Actions', class: 'actions', render: (b) => [
        el('a', { href: href.settings(b.name), class: 'button secondary small',
          'aria-label': `Settings of ${b.name}` }, 'Settings'), ' ',
        el('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${b.name}`,
          onclick: () => deleteBucket(b, stats).then((gone) => gone && load()) }, 'Delete'),
      ] },
    );
    const t = table(columns, rows, { caption: `${rows.length} bucket${rows.length === 1 ? ''
      : 's'}`, rowTestId: 'bucket-row', empty: 'No buckets yet: create one.' });
    body.replaceChildren(el('div', { class: 'table-wrap' }, t));
    if (!stats) {
      body.appendChild(el('p', { class: 'hint' }, 'Object counts and sizes come from the '
        + 'admin API, which did not answer.'));
    }
  }

  createBtn.addEventListener('click', async () => {
    const name = await createBucket();
    if (name) {
      toast(`Bucket ${name} created.`, 'success');
      await load();
    }
  });
  refreshBtn.addEventListener('click', load);
  await load();
}

/** The create dialog; resolves the new bucket's name (or undefined). */
async function createBucket() {
  const name = el('input', { type: 'text', name: 'bucket', autocomplete: 'off',
    spellcheck: 'false', autocapitalize: 'none', required: true });
  const versioning = el('input', { type: 'checkbox', name: 'versioning' });
  const lock = el('input', { type: 'checkbox', name: 'objectLock' });
  lock.addEventListener('change', () => {
    if (lock.checked) versioning.checked = true;
    versioning.disabled = lock.checked;
  });
  const body = el('div', { class: 'create-bucket' },
    field('Bucket name', name, '3–63 characters: lower-case letters, digits, dots, hyphens.'),
    field('Enable versioning', versioning, 'Keep every version of every object.'),
    field('Enable object lock', lock, 'Write-once-read-many retention and legal holds. '
      + 'Turns versioning on; cannot be turned off later.'));
  return openDialog({
    title: 'Create bucket',
    body,
    actions: [{ label: 'Create', onClick: async () => {
      const n = name.value.trim();
      const problem = bucketNameProblem(n);
      if (problem) throw new Error(problem);
      const headers = {};
      if (lock.checked) headers['x-amz-bucket-object-lock-enabled'] = 'true';
      await api.s3('PUT', `/${n}`, { headers });
      if (versioning.checked && !lock.checked) {
        try {
          await api.s3('PUT', `/${n}`, { query: { versioning: '' }, body:
            '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>',
          headers: { 'content-type': 'application/xml' } });
        } catch (e) {
          toast(`Bucket ${n} created, but versioning could not be enabled: ${errorText(e)}`,
            'error');
        }
      }
      return n;
    } }],
  });
}

/** Every version and delete marker of a bucket, page by page: yields [{Key, VersionId}]. */
async function* allVersions(bucket) {
  let keyMarker;
  let versionMarker;
  for (;;) {
    const a = await api.s3('GET', `/${bucket}`, { query: { versions: '', 'max-keys': '1000',
      'key-marker': keyMarker, 'version-id-marker': versionMarker } });
    const items = [...xmlAll(a.xml, 'Version'), ...xmlAll(a.xml, 'DeleteMarker')]
      .map((v) => ({ Key: xmlText(v, 'Key'), VersionId: xmlText(v, 'VersionId') }));
    if (items.length) yield items;
    if (xmlText(a.xml, 'IsTruncated') !== 'true') return;
    keyMarker = xmlText(a.xml, 'NextKeyMarker');
    versionMarker = xmlText(a.xml, 'NextVersionIdMarker') || undefined;
    if (!keyMarker) return;
  }
}

/** DeleteObjects for up to 1000 {Key, VersionId?}; resolves the failures [{Key, Code,
 * Message}]. */
export async function deleteMany(bucket, items) {
  const failures = [];
  for (let i = 0; i < items.length; i += 1000) {
    const batch = items.slice(i, i + 1000);
    const xml = '<Delete><Quiet>true</Quiet>' + batch.map((o) => '<Object><Key>'
      + xmlEscape(o.Key) + '</Key>' + (o.VersionId ? `<VersionId>${xmlEscape(o.VersionId)}`
      + '</VersionId>' : '') + '</Object>').join('') + '</Delete>';
    const a = await api.s3('POST', `/${bucket}`, { query: { delete: '' }, body: xml,
      headers: { 'content-type': 'application/xml' } });
    for (const e of xmlAll(a.xml, 'Error')) {
      failures.push({ Key: xmlText(e, 'Key'), Code: xmlText(e, 'Code'),
        Message: xmlText(e, 'Message') });
    }
  }
  return failures;
}

async function abortUploads(bucket) {
  try {
    const a = await api.s3('GET', `/${bucket}`, { query: { uploads: '' } });
    for (const u of xmlAll(a.xml, 'Upload')) {
      await api.s3('DELETE', `/${bucket}/${xmlText(u, 'Key')}`, {
        query: { uploadId: xmlText(u, 'UploadId') } });
    }
  } catch { /* DeleteBucket will say what is left */ }
}

/** Deletes a bucket; a non-empty one only after a typed confirmation, emptying it first.
 * Resolves true when the bucket is gone. */
async function deleteBucket(b, stats) {
  let count = stats ? Number(b.objects || 0) : 0;
  let probeFailed = null;
  try {
    const a = await api.s3('GET', `/${b.name}`, { query: { versions: '', 'max-keys': '2' } });
    const n = xmlAll(a.xml, 'Version').length + xmlAll(a.xml, 'DeleteMarker').length;
    if (n && !count) count = n;
    if (n && xmlText(a.xml, 'IsTruncated') === 'true' && count < 2) count = 2;
  } catch (e) {
    probeFailed = e;
  }
  if (!count) {
    const ok = await confirmDialog(`Delete bucket ${b.name}?`,
      [`The bucket ${b.name} looks empty${probeFailed ? ' (its contents could not be listed: '
        + errorText(probeFailed) + ')' : ''}. Deleting it cannot be undone.`],
      { danger: true, confirmLabel: 'Delete bucket' });
    if (!ok) return false;
    try {
      await api.s3('DELETE', `/${b.name}`);
      toast(`Bucket ${b.name} deleted.`, 'success');
      return true;
    } catch (e) {
      toast(`Could not delete ${b.name}: ${errorText(e)}`, 'error');
      return false;
    }
  }
  const typed = el('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const progress = el('p', { class: 'muted', 'aria-live': 'polite' });
  const what = stats ? `${Number(b.objects).toLocaleString('en-US')} object${b.objects === 1
    ? '' : 's'} (${formatBytes(b.bytes)})` : 'objects';
  const body = [
    el('p', { class: 'warning', role: 'note' }, `The bucket ${b.name} is not empty: it holds `
      + `${what}. Deleting it first deletes EVERYTHING in it — every object, every earlier `
      + 'version and every unfinished upload. This cannot be undone. Objects under '
      + 'object-lock retention or legal hold cannot be deleted, and then the bucket stays.'),
    field(`Type the bucket name (${b.name}) to confirm`, typed),
    progress,
  ];
  const result = await openDialog({
    title: `Delete the non-empty bucket ${b.name}?`,
    body,
    actions: [{ label: 'Delete everything and the bucket', kind: 'danger', onClick: async () => {
      if (typed.value.trim() !== b.name) throw new Error('The typed name does not match.');
      let done = 0;
      const failures = [];
      for await (const batch of allVersions(b.name)) {
        failures.push(...await deleteMany(b.name, batch));
        done += batch.length;
        progress.textContent = `Deleted ${done.toLocaleString('en-US')} versions…`;
        if (failures.length > 100) break;
      }
      await abortUploads(b.name);
      if (failures.length) {
        throw new Error(`${failures.length} version(s) could not be deleted, e.g. `
          + `${failures[0].Key}: ${failures[0].Code} ${failures[0].Message}`);
      }
      await api.s3('DELETE', `/${b.name}`);
      return true;
    } }],
  });
  if (result === true) {
    toast(`Bucket ${b.name} and its contents deleted.`, 'success');
    return true;
  }
  return false;
}

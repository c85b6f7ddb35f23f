// Objects of a bucket: folders (delimiter '/') with breadcrumbs, a prefix filter, pages of
// PAGE_SIZE entries (continuation tokens; Previous keeps a stack of them), uploads of files
// and whole folders (drag-and-drop or pickers) with per-file and overall progress and
// cancel, download, multi-select delete, rename / move and share links.

import { api, ApiError, xmlAll, xmlText } from '../api.js';
import { uriEncode } from '../sigv4.js';
import {
  el, errorBox, errorText, field, formatBytes, formatDate, formatDuration, href, loading,
  openDialog, table, toast, confirmDialog, copyText,
} from '../ui.js';
import { deleteMany } from './buckets.js';

export const PAGE_SIZE = 200;
const GiB = 1024 * 1024 * 1024;
const MAX_COPY = 5 * GiB;
const COPY_PART = 512 * 1024 * 1024;
const WEEK = 7 * 24 * 3600;
const FILES_IN_FLIGHT = 2;
let uploads = null; // the tab's upload panel (see uploader())

/** Breadcrumbs: Buckets / bucket / dir / dir / [last]. */
export function breadcrumbs(bucket, prefix, last) {
  const items = [el('li', null, el('a', { href: href.buckets() }, 'Buckets'))];
  const parts = prefix ? prefix.split('/').slice(0, -1) : [];
  items.push(el('li', null, parts.length || last ? el('a', { href: href.objects(bucket) },
    bucket) : el('span', { 'aria-current': 'page' }, bucket)));
  let acc = '';
  parts.forEach((p, i) => {
    acc += p + '/';
    const isLast = i === parts.length - 1 && !last;
    items.push(el('li', null, isLast ? el('span', { 'aria-current': 'page' }, p || '(empty)')
      : el('a', { href: href.objects(bucket, acc) }, p || '(empty)')));
  });
  if (last) items.push(el('li', null, el('span', { 'aria-current': 'page' }, last)));
  return el('nav', { 'aria-label': 'Breadcrumb', class: 'breadcrumbs' }, el('ol', null, items));
}

/** Starts a download of an object (presigned GET with Content-Disposition attachment). */
export function downloadObject(bucket, key, versionId) {
  const name = key.split('/').pop() || 'download';
  const url = api.presign('GET', bucket, key, 300, {
    'response-content-disposition': `attachment; filename*=UTF-8''${uriEncode(name)}`,
    versionId: versionId || undefined,
  });
  const a = el('a', { href: url, rel: 'noopener noreferrer', download: name, class:
    'visually-hidden' });
  document.body.appendChild(a);
  a.click();
  a.remove();
}

const EXPIRIES = [
  [15 * 60, '15 minutes'], [3600, '1 hour'], [4 * 3600, '4 hours'], [12 * 3600, '12 hours'],
  [86400, '1 day'], [3 * 86400, '3 days'], [WEEK, '7 days'],
];

/** The share link dialog: an expiry picker capped at the session's remaining life (or at 7
 * days when a long-term key is typed in for it — used once, never stored), a copy button. */
export async function shareDialog(bucket, key, versionId) {
  const expiry = el('select', { name: 'expiry' });
  const useKey = el('input', { type: 'checkbox', name: 'useKey' });
  const ak = el('input', { type: 'text', name: 'shareAccessKey', autocomplete: 'off',
    spellcheck: 'false' });
  const sk = el('input', { type: 'password', name: 'shareSecretKey', autocomplete: 'off' });
  const keyBox = el('div', { class: 'share-key', hidden: true },
    field('Access key for the link', ak),
    field('Secret key for the link', sk, 'Used once to sign this link in the browser; not '
      + 'sent to the server and not stored.'));
  const attachment = el('input', { type: 'checkbox', name: 'attachment' });
  const out = el('input', { type: 'text', readOnly: true, class: 'share-url',
    'data-testid': 'share-url', 'aria-label': 'Share link' });
  const copyBtn = el('button', { type: 'button', class: 'secondary' }, 'Copy link');
  const expiresText = el('p', { class: 'muted', 'aria-live': 'polite' });
  const result = el('div', { class: 'share-result', hidden: true },
    field('Share link', out), el('div', { class: 'toolbar' }, copyBtn), expiresText);
  const note = el('p', { class: 'hint' });
  const fill = () => {
    const left = useKey.checked ? WEEK : api.sessionRemaining();
    const prev = Number(expiry.value) || 3600;
    expiry.replaceChildren();
    for (const [secs, label] of EXPIRIES) {
      const over = secs > left;
      expiry.appendChild(el('option', { value: String(secs), disabled: over,
        selected: !over && secs === prev }, over ? `${label} (longer than allowed)` : label));
    }
    if (Number.isFinite(left) && left < WEEK && !EXPIRIES.some(([s]) => s === left)) {
      expiry.appendChild(el('option', { value: String(left) },
        `Until the session ends (${formatDuration(left)})`));
    }
    if (expiry.selectedOptions[0] && expiry.selectedOptions[0].disabled) {
      const ok = Array.from(expiry.options).filter((o) => !o.disabled);
      if (ok.length) ok[ok.length - 1].selected = true;
    }
    keyBox.hidden = !useKey.checked;
    note.textContent = useKey.checked
      ? 'A link signed by a long-term key lives up to 7 days, or until that key is '
        + 'deactivated or deleted.'
      : `Links signed with your session stop working when the session ends (in `
        + `${formatDuration(api.sessionRemaining())}) or when you sign out. To share for `
        + 'longer, sign with a dedicated long-term key.';
  };
  useKey.addEventListener('change', fill);
  fill();
  copyBtn.addEventListener('click', async () => {
    const ok = await copyText(out.value, out);
    toast(ok ? 'Link copied.' : 'Select the link and copy it (Ctrl+C).', ok ? 'success' : 'info');
  });
  const body = [
    el('p', null, 'Anyone with the link can download ', el('span', { class: 'key' }, key),
      versionId ? ` (version ${versionId})` : '', ' until it expires.'),
    field('Link valid for', expiry),
    field('Download as a file (attachment)', attachment),
    field('Sign with a long-term key', useKey),
    keyBox, note, result,
  ];
  await openDialog({
    title: 'Share link',
    wide: true,
    body,
    cancelLabel: 'Close',
    testid: 'share-dialog',
    actions: [{ label: 'Create link', onClick: () => {
      const secs = Number(expiry.value);
      let creds;
      if (useKey.checked) {
        if (!ak.value.trim() || !sk.value) throw new Error('Enter the access key and secret key.');
        creds = { accessKeyId: ak.value.trim(), secretAccessKey: sk.value };
        sk.value = '';
      } else if (secs > api.sessionRemaining()) {
        throw new Error('The session ends before that; choose a shorter time.');
      }
      const q = { versionId: versionId || undefined };
      if (attachment.checked) {
        const name = key.split('/').pop() || 'download';
        q['response-content-disposition'] = `attachment; filename*=UTF-8''${uriEncode(name)}`;
      }
      out.value = api.presign('GET', bucket, key, secs, q, creds);
      expiresText.textContent = `Expires ${formatDate(Date.now() + secs * 1000)} (in `
        + `${formatDuration(secs)}).`;
      result.hidden = false;
      out.focus();
      out.select();
      return false; // keep the dialog open to copy the link
    } }],
  });
}

function copySource(bucket, key, versionId) {
  return `/${bucket}/${uriEncode(key, true)}${versionId ? `?versionId=${uriEncode(versionId)}`
    : ''}`;
}

function checkCopyAnswer(a) {
  if (a.xml && a.xml.documentElement.localName === 'Error') {
    throw new ApiError(xmlText(a.xml, 'Code'), xmlText(a.xml, 'Message'), 500,
      xmlText(a.xml, 'RequestId'));
  }
}

const KEEP_HEADERS = ['content-type', 'cache-control', 'content-disposition',
  'content-encoding', 'content-language', 'expires'];

/** Copies an object (or one version of it). Up to 5 GiB (`multipartAbove`): CopyObject.
 * Larger: a multipart upload of UploadPartCopy parts, 4 in flight (metadata and tags carried
 * over from HEAD / GetObjectTagging). onProgress(copiedBytes, total). */
export async function copyObject(src, dst, { versionId, onProgress, signal,
  multipartAbove = MAX_COPY, partSize: wantedPart = COPY_PART } = {}) {
  const head = await api.s3('HEAD', `/${src.bucket}/${src.key}`, {
    query: { versionId: versionId || undefined } });
  const size = Number(head.headers.get('content-length') || 0);
  const source = copySource(src.bucket, src.key, versionId);
  if (size <= multipartAbove) {
    const a = await api.s3('PUT', `/${dst.bucket}/${dst.key}`, {
      headers: { 'x-amz-copy-source': source }, signal });
    checkCopyAnswer(a);
    if (onProgress) onProgress(size, size);
    return a;
  }
  const headers = {};
  for (const h of KEEP_HEADERS) {
    const v = head.headers.get(h);
    if (v) headers[h] = v;
  }
  head.headers.forEach((v, k) => {
    if (k.toLowerCase().startsWith('x-amz-meta-')) headers[k.toLowerCase()] = v;
  });
  try {
    const t = await api.s3('GET', `/${src.bucket}/${src.key}`, {
      query: { tagging: '', versionId: versionId || undefined } });
    const tags = xmlAll(t.xml, 'Tag').map((x) => `${encodeURIComponent(xmlText(x, 'Key'))}=`
      + encodeURIComponent(xmlText(x, 'Value')));
    if (tags.length) headers['x-amz-tagging'] = tags.join('&');
  } catch { /* no tags readable: copy without them */ }
  const init = await api.s3('POST', `/${dst.bucket}/${dst.key}`, { query: { uploads: '' },
    headers, signal });
  const uploadId = xmlText(init.xml, 'UploadId');
  const partSize = Math.max(wantedPart, Math.ceil(size / 10000));
  const count = Math.ceil(size / partSize);
  const etags = new Array(count);
  let copied = 0;
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const first = i * partSize;
      const last = Math.min(size, first + partSize) - 1;
      const a = await api.s3('PUT', `/${dst.bucket}/${dst.key}`, {
        query: { partNumber: String(i + 1), uploadId },
        headers: { 'x-amz-copy-source': source,
          'x-amz-copy-source-range': `bytes=${first}-${last}` }, signal });
      checkCopyAnswer(a);
      etags[i] = xmlText(a.xml, 'ETag');
      copied += last - first + 1;
      if (onProgress) onProgress(copied, size);
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(4, count) }, worker));
    const xml = '<CompleteMultipartUpload>' + etags.map((e, i) => `<Part><PartNumber>${i + 1}`
      + `</PartNumber><ETag>${e.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ETag></Part>`)
      .join('') + '</CompleteMultipartUpload>';
    const done = await api.s3('POST', `/${dst.bucket}/${dst.key}`, { query: { uploadId },
      body: xml, headers: { 'content-type': 'application/xml' } });
    checkCopyAnswer(done);
    return done;
  } catch (e) {
    try {
      await api.s3('DELETE', `/${dst.bucket}/${dst.key}`, { query: { uploadId } });
    } catch { /* best effort */ }
    throw e;
  }
}

/** Rename / move: copy to the new name, then delete the old one (says so). Resolves the new
 * {bucket, key} or undefined. */
export async function renameDialog(bucket, key) {
  const dstBucket = el('input', { type: 'text', value: bucket, autocomplete: 'off',
    spellcheck: 'false' });
  const dstKey = el('input', { type: 'text', value: key, autocomplete: 'off',
    spellcheck: 'false' });
  const progress = el('progress', { max: '1', value: '0', hidden: true,
    'aria-label': 'Copy progress' });
  const body = [
    field('Destination bucket', dstBucket),
    field('New name (key)', dstKey, 'Use "/" to move it into a folder, e.g. archive/2026/'
      + (key.split('/').pop() || '')),
    el('p', { class: 'warning', role: 'note' }, 'Renaming copies the object to the new name '
      + 'and then deletes the old one. It is not atomic: for a moment both exist, and if the '
      + 'delete fails both stay. Earlier versions stay behind under the old name (in a '
      + 'versioned bucket the old name gets a delete marker). Objects larger than 5 GiB are '
      + 'copied part by part (multipart copy), which takes a while.'),
    progress,
  ];
  return openDialog({
    title: `Rename or move ${key}`,
    body,
    actions: [{ label: 'Rename', onClick: async () => {
      const nb = dstBucket.value.trim();
      const nk = dstKey.value;
      if (!nb || !nk) throw new Error('Enter a bucket and a name.');
      if (nb === bucket && nk === key) throw new Error('The new name is the same as the old.');
      progress.hidden = false;
      await copyObject({ bucket, key }, { bucket: nb, key: nk }, { onProgress: (n, t) => {
        progress.max = t || 1;
        progress.value = n;
      } });
      try {
        await api.s3('DELETE', `/${bucket}/${key}`);
      } catch (e) {
        toast(`Copied to ${nk}, but the old object could not be deleted: ${errorText(e)}`,
          'error');
      }
      return { bucket: nb, key: nk };
    } }],
  });
}

/** Reads a dropped directory entry tree into [{file, path}]. */
function readEntries(entry, out) {
  return new Promise((resolve) => {
    if (entry.isFile) {
      entry.file((file) => {
        out.push({ file, path: entry.fullPath.replace(/^\/+/, '') });
        resolve();
      }, () => resolve());
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const batch = () => reader.readEntries(async (entries) => {
        if (!entries.length) {
          resolve();
          return;
        }
        for (const e of entries) await readEntries(e, out);
        batch();
      }, () => resolve());
      batch();
    } else {
      resolve();
    }
  });
}

/** The files of a drop event: folders walked through webkitGetAsEntry. */
async function droppedFiles(dt) {
  const entries = [];
  const plain = [];
  for (const item of Array.from(dt.items || [])) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) plain.push({ file: f, path: f.name });
    }
  }
  if (!entries.length && !plain.length) {
    for (const f of Array.from(dt.files || [])) plain.push({ file: f, path: f.name });
  }
  const out = [...plain];
  for (const e of entries) await readEntries(e, out);
  return out;
}

/** The upload panel: queue, per-file and overall <progress>, cancel. One per tab: it
 * survives navigation between folders (re-attached to each objects page). */
function uploader() {
  let onDone = () => {};
  const overall = el('progress', { max: '1', value: '0', 'data-testid': 'upload-overall',
    'aria-label': 'Overall upload progress' });
  const summary = el('span', { class: 'muted', 'aria-live': 'polite' });
  const cancelAll = el('button', { type: 'button', class: 'danger small' }, 'Cancel all');
  const clearBtn = el('button', { type: 'button', class: 'secondary small', hidden: true },
    'Clear list');
  const list = el('ul', { 'aria-label': 'Uploads' });
  const panel = el('section', { class: 'uploads panel', hidden: true,
    'aria-labelledby': 'uploads-title' },
  el('h2', { id: 'uploads-title' }, 'Uploads'),
  el('div', { class: 'overall' }, overall, el('div', { class: 'toolbar' }, cancelAll, clearBtn)),
  summary, list);
  let jobs = [];
  let running = 0;

  const update = () => {
    const total = jobs.reduce((a, j) => a + j.file.size, 0);
    const loaded = jobs.reduce((a, j) => a + (j.state === 'done' ? j.file.size : j.loaded), 0);
    const finished = jobs.filter((j) => j.state === 'done' || j.state === 'failed'
      || j.state === 'cancelled').length;
    overall.max = total || 1;
    overall.value = total ? Math.min(loaded, total) : (finished === jobs.length ? 1 : 0);
    const ok = jobs.filter((j) => j.state === 'done').length;
    summary.textContent = `${ok} of ${jobs.length} file${jobs.length === 1 ? '' : 's'} `
      + `uploaded — ${formatBytes(loaded)} of ${formatBytes(total)}`;
    const busy = finished < jobs.length;
    cancelAll.hidden = !busy;
    clearBtn.hidden = busy;
  };

  const pump = () => {
    while (running < FILES_IN_FLIGHT) {
      const job = jobs.find((j) => j.state === 'queued');
      if (!job) break;
      running += 1;
      start(job).finally(() => {
        running -= 1;
        update();
        pump();
        if (!jobs.some((j) => j.state === 'queued' || j.state === 'uploading')) {
          const done = jobs.filter((j) => j.state === 'done').length;
          const failed = jobs.filter((j) => j.state === 'failed').length;
          if (done || failed) {
            toast(`${done} file${done === 1 ? '' : 's'} uploaded${failed ? `, ${failed} failed`
              : ''}.`, failed ? 'error' : 'success');
          }
          onDone(job.bucket);
        }
      });
    }
  };

  async function start(job) {
    job.state = 'uploading';
    job.stateEl.textContent = 'Uploading…';
    try {
      await api.upload(job.bucket, job.key, job.file, { signal: job.controller.signal,
        onProgress: (loaded) => {
          job.loaded = loaded;
          job.bar.max = job.file.size || 1;
          job.bar.value = loaded;
          update();
        } });
      job.state = 'done';
      job.bar.max = job.file.size || 1;
      job.bar.value = job.file.size || 1;
      job.stateEl.textContent = 'Done';
      job.li.classList.add('done');
    } catch (e) {
      job.loaded = 0;
      job.state = e.code === 'Aborted' ? 'cancelled' : 'failed';
      job.stateEl.textContent = e.code === 'Aborted' ? 'Cancelled' : `Failed: ${errorText(e)}`;
      job.li.classList.add('failed');
    }
    job.cancel.hidden = true;
  }

  cancelAll.addEventListener('click', () => {
    for (const j of jobs) {
      if (j.state === 'queued') {
        j.state = 'cancelled';
        j.stateEl.textContent = 'Cancelled';
        j.cancel.hidden = true;
      } else if (j.state === 'uploading') {
        j.controller.abort();
      }
    }
    update();
  });
  clearBtn.addEventListener('click', () => {
    jobs = [];
    list.replaceChildren();
    panel.hidden = true;
  });

  return {
    panel,
    busy: () => jobs.some((j) => j.state === 'queued' || j.state === 'uploading'),
    cancelAll: () => cancelAll.click(),
    setOnDone(fn) {
      onDone = fn;
    },
    add(files, bucket, prefix) {
      if (!files.length) return;
      if (!jobs.some((j) => j.state === 'queued' || j.state === 'uploading')) {
        jobs = [];
        list.replaceChildren();
      }
      panel.hidden = false;
      for (const { file, path } of files) {
        const key = prefix + path;
        const bar = el('progress', { max: String(file.size || 1), value: '0',
          'data-testid': 'upload-file', 'aria-label': `Upload progress of ${path}` });
        const stateEl = el('span', { class: 'upload-state' }, 'Queued');
        const job = { file, bucket, key, loaded: 0, state: 'queued', bar, stateEl,
          controller: new AbortController() };
        job.cancel = el('button', { type: 'button', class: 'secondary small',
          'aria-label': `Cancel upload of ${path}`, onclick: () => {
            if (job.state === 'queued') {
              job.state = 'cancelled';
              stateEl.textContent = 'Cancelled';
              job.cancel.hidden = true;
              update();
            } else job.controller.abort();
          } }, 'Cancel');
        job.li = el('li', null, el('span', { class: 'key' }, path,
          el('span', { class: 'muted' }, ` (${formatBytes(file.size)})`)), bar,
        el('span', null, stateEl, ' ', job.cancel));
        list.appendChild(job.li);
        jobs.push(job);
      }
      update();
      pump();
    },
  };
}

export async function render(main, params, ctx) {
  const bucket = params.bucket;
  let prefix = params.prefix || '';
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  ctx.setTitle(prefix ? `${bucket}/${prefix}` : bucket);

  const filter = el('input', { type: 'search', name: 'filter', autocomplete: 'off',
    spellcheck: 'false', value: ctx.query.filter || '' });
  const filesInput = el('input', { type: 'file', multiple: true, class: 'visually-hidden',
    tabindex: '-1', 'aria-hidden': 'true' });
  const folderInput = el('input', { type: 'file', multiple: true, webkitdirectory: true,
    class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true' });
  const uploadFilesBtn = el('button', { type: 'button' }, 'Upload files');
  const uploadFolderBtn = el('button', { type: 'button' }, 'Upload folder');
  const newFolderBtn = el('button', { type: 'button', class: 'secondary' }, 'New folder');
  const refreshBtn = el('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const showVersions = el('input', { type: 'checkbox', name: 'versions',
    checked: 'versions' in ctx.query });
  const deleteBtn = el('button', { type: 'button', class: 'danger', disabled: true },
    'Delete selected');
  const selInfo = el('span', { class: 'muted', 'aria-live': 'polite' });
  const listing = el('div', { class: 'listing' });
  const pager = el('nav', { class: 'pager', 'aria-label': 'Pages' });
  const dropzone = el('div', { class: 'dropzone' }, 'Drop files or folders here to upload them to ',
    el('span', { class: 'key' }, prefix ? `${bucket}/${prefix}` : bucket), '.');
  if (!uploads) uploads = uploader();
  const up = uploads;
  up.setOnDone((b) => {
    if (b === bucket && !ctx.signal.aborted) load(tokens[page]);
  });
  if (up.panel.parentNode) up.panel.remove();

  main.append(
    breadcrumbs(bucket, prefix),
    el('div', { class: 'page-head' },
      el('h1', { tabindex: '-1' }, prefix ? prefix.split('/').slice(-2, -1)[0] || prefix : bucket),
      el('div', { class: 'page-actions' }, uploadFilesBtn, uploadFolderBtn, newFolderBtn,
        el('a', { href: href.settings(bucket), class: 'button secondary' }, 'Bucket settings'))),
    filesInput, folderInput,
    dropzone, up.panel,
    el('form', { class: 'toolbar', role: 'search', onsubmit: (e) => {
      e.preventDefault();
      page = 0;
      tokens = [undefined];
      load(undefined);
    } }, field('Filter by name prefix', filter), el('button', { type: 'submit',
      class: 'secondary' }, 'Filter'), refreshBtn, field('Show versions', showVersions)),
    el('div', { class: 'toolbar' }, deleteBtn, selInfo),
    listing, pager,
  );

  let tokens = [undefined]; // continuation token of each page seen so far
  let page = 0;
  let t = null;

  async function load(token) {
    listing.replaceChildren(loading());
    pager.replaceChildren();
    deleteBtn.disabled = true;
    selInfo.textContent = '';
    let a;
    const versions = showVersions.checked;
    const query = versions ? { versions: '', delimiter: '/', prefix: prefix + filter.value,
      'max-keys': String(PAGE_SIZE), 'key-marker': token && token.k,
      'version-id-marker': token && token.v } : { 'list-type': '2', delimiter: '/',
      prefix: prefix + filter.value, 'max-keys': String(PAGE_SIZE), 'continuation-token': token };
    try {
      a = await api.s3('GET', `/${bucket}`, { query, signal: ctx.signal });
    } catch (e) {
      if (e.code === 'Aborted') return;
      listing.replaceChildren(errorBox(e));
      return;
    }
    if (ctx.signal.aborted) return;
    const folders = xmlAll(a.xml, 'CommonPrefixes').map((p) => ({ folder: true,
      key: xmlText(p, 'Prefix') }));
    const objects = (versions ? Array.from(a.xml.documentElement.children).filter((c) =>
      c.localName === 'Version' || c.localName === 'DeleteMarker') : xmlAll(a.xml, 'Contents'))
      .map((c) => ({
        key: xmlText(c, 'Key'), size: Number(xmlText(c, 'Size') || 0),
        modified: xmlText(c, 'LastModified'), etag: xmlText(c, 'ETag'),
        versionId: versions ? xmlText(c, 'VersionId') : undefined,
        latest: xmlText(c, 'IsLatest') === 'true', marker: c.localName === 'DeleteMarker',
      })).filter((o) => o.key !== prefix);
    const rows = [...folders, ...objects];
    const name = (r) => (r.key.slice(prefix.length) || r.key) + (versions && !r.folder
      ? ` (${r.marker ? 'delete marker' : 'version'} ${r.versionId}${r.latest ? ', current'
        : ''})` : '');
    const versionColumn = versions ? [{ label: 'Version', render: (r) => (r.folder ? '—'
      : [r.marker ? 'Delete marker' : r.versionId, r.latest ? ' (current)' : '']) }] : [];
    t = table([
      { label: 'Name', class: 'name', render: (r) => (r.folder
        ? el('a', { href: href.objects(bucket, r.key), class: 'folder-link' },
          r.key.slice(prefix.length))
        : el('a', { href: href.object(bucket, r.key) + (versions && !r.marker
          ? `?version=${encodeURIComponent(r.versionId)}` : ''), class: 'key' },
        r.key.slice(prefix.length) || r.key)) },
      ...versionColumn,
      { label: 'Size', class: 'num', render: (r) => (r.folder || r.marker ? '—'
        : formatBytes(r.size)) },
      { label: 'Last modified', render: (r) => (r.folder ? '—' : formatDate(r.modified)) },
      { label: '', ariaLabel: 'Actions', class: 'actions', render: (r) => (r.folder ? null
        : versions ? (r.marker ? null : el('button', { type: 'button', class: 'secondary small',
          'aria-label': `Download ${name(r)}`, onclick: () => downloadObject(bucket, r.key,
            r.versionId) }, 'Download')) : [
        el('button', { type: 'button', class: 'secondary small', 'aria-label':
          `Download ${name(r)}`, onclick: () => downloadObject(bucket, r.key) }, 'Download'),
        el('button', { type: 'button', class: 'secondary small', 'aria-label':
          `Share ${name(r)}`, onclick: () => shareDialog(bucket, r.key) }, 'Share'),
        el('button', { type: 'button', class: 'secondary small', 'aria-label':
          `Rename ${name(r)}`, onclick: async () => {
          const moved = await renameDialog(bucket, r.key);
          if (moved) {
            toast(`Renamed to ${moved.key}.`, 'success');
            load(tokens[page]);
          }
        } }, 'Rename'),
      ]) },
    ], rows, {
      caption: `${prefix ? `Folder ${prefix}` : `Bucket ${bucket}`}${filter.value
        ? ` — names starting with “${filter.value}”` : ''} — page ${page + 1}`,
      selectable: true, rowTestId: 'object-row', rowLabel: (r) => name(r),
      empty: filter.value ? 'Nothing matches this filter.' : 'This folder is empty.',
      onSelect: (sel) => {
        deleteBtn.disabled = !sel.length;
        selInfo.textContent = sel.length ? `${sel.length} selected` : '';
      },
    });
    listing.replaceChildren(el('div', { class: 'table-wrap' }, t));
    const truncated = xmlText(a.xml, 'IsTruncated') === 'true';
    const next = !truncated ? '' : versions ? { k: xmlText(a.xml, 'NextKeyMarker'),
      v: xmlText(a.xml, 'NextVersionIdMarker') || undefined }
      : xmlText(a.xml, 'NextContinuationToken');
    const prevBtn = el('button', { type: 'button', class: 'secondary', disabled: page === 0,
      onclick: () => {
        page -= 1;
        load(tokens[page]);
      } }, 'Previous page');
    const nextBtn = el('button', { type: 'button', class: 'secondary', disabled: !next,
      onclick: () => {
        page += 1;
        tokens[page] = next;
        tokens.length = page + 1;
        load(next);
      } }, 'Next page');
    const first = page * PAGE_SIZE + 1;
    pager.replaceChildren(prevBtn, el('span', { class: 'muted' }, rows.length
      ? `Items ${first.toLocaleString('en-US')}–${(first + rows.length - 1)
        .toLocaleString('en-US')}` : ''), nextBtn);
  }

  async function deleteSelected() {
    const sel = t ? t.selectedRows() : [];
    if (!sel.length) return;
    const folders = sel.filter((r) => r.folder);
    const files = sel.filter((r) => !r.folder);
    const lines = [`Delete ${files.length} object${files.length === 1 ? '' : 's'}`
      + (folders.length ? ` and ${folders.length} folder${folders.length === 1 ? '' : 's'} `
        + 'with everything in them' : '') + '?'];
    lines.push(...sel.slice(0, 8).map((r) => el('p', { class: 'key' }, r.key)));
    if (sel.length > 8) lines.push(`… and ${sel.length - 8} more.`);
    lines.push(files.some((r) => r.versionId) ? 'The selected versions are removed '
      + 'permanently.' : 'In a versioned bucket this adds delete markers; earlier versions '
      + 'stay and can be restored from the object details.');
    if (!await confirmDialog('Delete objects', lines, { danger: true })) return;
    const items = files.map((r) => ({ Key: r.key, VersionId: r.versionId }));
    try {
      for (const f of folders) {
        let token;
        do {
          const a = await api.s3('GET', `/${bucket}`, { query: { 'list-type': '2',
            prefix: f.key, 'max-keys': '1000', 'continuation-token': token } });
          items.push(...xmlAll(a.xml, 'Contents').map((c) => ({ Key: xmlText(c, 'Key') })));
          token = xmlText(a.xml, 'IsTruncated') === 'true'
            ? xmlText(a.xml, 'NextContinuationToken') : undefined;
        } while (token);
      }
      const failures = await deleteMany(bucket, items);
      if (failures.length) {
        toast(`${failures.length} of ${items.length} could not be deleted — ${failures[0].Key}:`
          + ` ${failures[0].Code} ${failures[0].Message}`, 'error');
      } else {
        toast(`Deleted ${items.length} object${items.length === 1 ? '' : 's'}.`, 'success');
      }
    } catch (e) {
      toast(`Delete failed: ${errorText(e)}`, 'error');
    }
    load(tokens[page]);
  }

  async function newFolder() {
    const input = el('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
    const name = await openDialog({ title: 'New folder', body: [
      field('Folder name', input, 'Folders are key prefixes; this creates an empty marker '
        + `object "${prefix}name/".`)],
    actions: [{ label: 'Create', onClick: async () => {
      const n = input.value.replace(/^\/+|\/+$/g, '');
      if (!n) throw new Error('Enter a name.');
      await api.s3('PUT', `/${bucket}/${prefix}${n}/`, { body: '' });
      return n;
    } }] });
    if (name) {
      toast(`Folder ${name} created.`, 'success');
      load(tokens[page]);
    }
  }

  uploadFilesBtn.addEventListener('click', () => filesInput.click());
  uploadFolderBtn.addEventListener('click', () => folderInput.click());
  filesInput.addEventListener('change', () => {
    up.add(Array.from(filesInput.files).map((f) => ({ file: f, path: f.name })), bucket,
      prefix);
    filesInput.value = '';
  });
  folderInput.addEventListener('change', () => {
    up.add(Array.from(folderInput.files).map((f) => ({ file: f,
      path: f.webkitRelativePath || f.name })), bucket, prefix);
    folderInput.value = '';
  });
  newFolderBtn.addEventListener('click', newFolder);
  refreshBtn.addEventListener('click', () => load(tokens[page]));
  showVersions.addEventListener('change', () => {
    page = 0;
    tokens = [undefined];
    load(undefined);
  });
  deleteBtn.addEventListener('click', deleteSelected);
  let depth = 0;
  main.addEventListener('dragenter', (e) => {
    if (!e.dataTransfer || !Array.from(e.dataTransfer.types).includes('Files')) return;
    e.preventDefault();
    depth += 1;
    dropzone.classList.add('dragging');
  });
  main.addEventListener('dragover', (e) => {
    if (!e.dataTransfer || !Array.from(e.dataTransfer.types).includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  main.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) dropzone.classList.remove('dragging');
  });
  main.addEventListener('drop', async (e) => {
    if (!e.dataTransfer) return;
    e.preventDefault();
    depth = 0;
    dropzone.classList.remove('dragging');
    const files = await droppedFiles(e.dataTransfer);
    up.add(files, bucket, prefix);
  });
  window.addEventListener('beforeunload', (e) => {
    if (up.busy()) e.preventDefault();
  }, { signal: ctx.signal });
  await load(undefined);
}

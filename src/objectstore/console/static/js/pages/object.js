// One object: size, type, ETag, checksums, metadata, tags (edit), versions (restore, delete),
// retention and legal hold, and a preview of images (fetch → blob: URL) and text (<pre>).

import { api, xmlAll, xmlEscape, xmlText } from '../api.js';
import { uriEncode } from '../sigv4.js';
import {
  el, errorBox, errorText, field, formatBytes, formatDate, href, loading, openDialog, table,
  toast, confirmDialog,
} from '../ui.js';
import { breadcrumbs, copyObject, downloadObject, renameDialog, shareDialog } from './objects.js';

const PREVIEW_IMAGE_MAX = 20 * 1024 * 1024;
const PREVIEW_TEXT_MAX = 256 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-yaml|yaml|x-sh|toml|csv|x-ndjson)|.*\+json$|.*\+xml$)/i;
const TEXT_EXT = /\.(txt|md|markdown|csv|tsv|log|json|ndjson|xml|ya?ml|toml|ini|conf|cfg|sh|py|js|mjs|ts|css|html?|svg|rs|go|c|h|cpp|java|rb|sql|env|properties)$/i;
const SYSTEM_META = ['content-type', 'content-length', 'etag', 'last-modified',
  'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires',
  'x-amz-version-id', 'x-amz-storage-class', 'x-amz-server-side-encryption',
  'x-amz-website-redirect-location', 'x-amz-tagging-count', 'x-amz-mp-parts-count'];
const CHECKSUMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null
    && v !== '').map(([k, v]) => [el('dt', null, k), el('dd', null, v)]));
}

function section(title, ...children) {
  return el('section', { class: 'panel' }, el('h2', null, title),
    ...children);
}

export async function render(main, params, ctx) {
  const { bucket, key } = params;
  const versionId = ctx.query.version || undefined;
  const vq = { versionId };
  const path = `/${bucket}/${key}`;
  ctx.setTitle(key);
  const dir = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  main.append(breadcrumbs(bucket, dir, key.slice(dir.length)));
  const h1 = el('h1', { tabindex: '-1', class: 'key' }, key.slice(dir.length) || key);
  main.appendChild(h1);
  const status = el('div');
  main.appendChild(status);
  status.appendChild(loading());

  let head;
  try {
    head = await api.s3('HEAD', path, { query: vq, headers: { 'x-amz-checksum-mode': 'ENABLED' },
      signal: ctx.signal });
  } catch (e) {
    status.replaceChildren(errorBox(e.code === 'NotFound' ? `No object named ${key} in ${bucket}`
      + `${versionId ? ` with version ${versionId}` : ''} (NoSuchKey).` : e));
    return;
  }
  if (ctx.signal.aborted) return;
  status.replaceChildren();
  const h = head.headers;
  const size = Number(h.get('content-length') || 0);
  const type = h.get('content-type') || '';

  const actions = el('div', { class: 'page-actions' },
    el('button', { type: 'button', onclick: () => downloadObject(bucket, key, versionId) },
      'Download'),
    // a real link on the S3 origin (never the console's): signed afresh on every click
    el('a', { href: api.presign('GET', bucket, key, 900, vq), target: '_blank',
      rel: 'noopener noreferrer', class: 'button secondary', onclick: (e) => {
        e.currentTarget.href = api.presign('GET', bucket, key, 900, vq);
      } }, 'Open in new tab'),
    el('button', { type: 'button', class: 'secondary', onclick: () => shareDialog(bucket, key,
      versionId) }, 'Share'),
    versionId ? null : el('button', { type: 'button', class: 'secondary', onclick: async () => {
      const moved = await renameDialog(bucket, key);
      if (moved) {
        toast(`Renamed to ${moved.key}.`, 'success');
        ctx.navigate(href.object(moved.bucket, moved.key));
      }
    } }, 'Rename / move'),
    el('button', { type: 'button', class: 'danger', onclick: async () => {
      const what = versionId ? `version ${versionId} of ${key}` : key;
      if (!await confirmDialog('Delete object', [`Delete ${what}?`, versionId
        ? 'This version is removed permanently.'
        : 'In a versioned bucket this adds a delete marker; earlier versions stay.'],
      { danger: true })) return;
      try {
        await api.s3('DELETE', path, { query: vq });
        toast(`Deleted ${what}.`, 'success');
        ctx.navigate(versionId ? href.object(bucket, key) : href.objects(bucket, dir));
      } catch (e) {
        toast(`Could not delete: ${errorText(e)}`, 'error');
      }
    } }, 'Delete'));
  main.appendChild(actions);

  // ---------------------------------------------------------------- overview
  const overview = section('Overview', kv([
    ['Bucket', bucket], ['Key', key], ['Size', `${formatBytes(size)} (${size.toLocaleString(
      'en-US')} bytes)`], ['Type', type], ['ETag', h.get('etag')],
    ['Last modified', formatDate(h.get('last-modified'))],
    ['Version', h.get('x-amz-version-id') || (versionId || '')],
    ['Storage class', h.get('x-amz-storage-class') || 'STANDARD'],
    ['Encryption', h.get('x-amz-server-side-encryption')],
    ...CHECKSUMS.map((c) => [`Checksum ${c}`, h.get(`x-amz-checksum-${c.toLowerCase()}`)]),
    ['Checksum type', h.get('x-amz-checksum-type')],
  ]));
  const attrs = el('div');
  overview.appendChild(attrs);
  main.appendChild(overview);
  api.s3('GET', path, { query: { attributes: '', versionId }, headers: {
    'x-amz-object-attributes': 'ETag,Checksum,ObjectParts,StorageClass,ObjectSize' } })
    .then((a) => {
      const pairs = [];
      const cs = xmlAll(a.xml, 'Checksum')[0];
      if (cs) {
        for (const c of CHECKSUMS) {
          const v = xmlText(cs, `Checksum${c}`);
          if (v && !h.get(`x-amz-checksum-${c.toLowerCase()}`)) pairs.push([`Checksum ${c}`, v]);
        }
      }
      const parts = xmlText(a.xml, 'TotalPartsCount');
      if (parts) pairs.push(['Parts', parts]);
      if (pairs.length) attrs.appendChild(kv(pairs));
    }).catch(() => { /* GetObjectAttributes not allowed or absent: HEAD said enough */ });

  // ---------------------------------------------------------------- preview
  const preview = el('div', { class: 'preview' });
  main.appendChild(section('Preview', preview));
  renderPreview(preview, path, vq, type, size, key, ctx);

  // ---------------------------------------------------------------- metadata
  const user = [];
  const system = [];
  h.forEach((v, k) => {
    const n = k.toLowerCase();
    if (n.startsWith('x-amz-meta-')) user.push({ name: n.slice('x-amz-meta-'.length), value: v });
    else if (SYSTEM_META.includes(n)) system.push({ name: n, value: v });
  });
  user.sort((a, b) => (a.name < b.name ? -1 : 1));
  system.sort((a, b) => (a.name < b.name ? -1 : 1));
  const editMeta = versionId ? null : el('button', { type: 'button', class: 'secondary',
    onclick: async () => {
      if (await metadataDialog(bucket, key, h, user, size)) {
        toast('Metadata saved.', 'success');
        ctx.navigate(href.object(bucket, key));
      }
    } }, 'Edit metadata');
  main.appendChild(section('Metadata', editMeta,
    el('div', { class: 'table-wrap' }, table([
      { label: 'Name', class: 'key', render: (m) => m.name },
      { label: 'Value', class: 'name', render: (m) => m.value },
    ], user, { caption: 'User metadata (x-amz-meta-*)', empty: 'No user metadata.' })),
    el('div', { class: 'table-wrap' }, table([
      { label: 'Header', class: 'key', render: (m) => m.name },
      { label: 'Value', class: 'name', render: (m) => m.value },
    ], system, { caption: 'System metadata' }))));

  // ---------------------------------------------------------------- tags
  const tagsBox = el('div');
  main.appendChild(section('Tags', tagsBox));
  renderTags(tagsBox, path, vq);

  // ---------------------------------------------------------------- versions
  const versionsBox = el('div');
  main.appendChild(section('Versions', versionsBox));
  renderVersions(versionsBox, bucket, key, versionId, ctx);

  // ---------------------------------------------------------------- lock
  const lockBox = el('div');
  main.appendChild(section('Retention and legal hold', lockBox));
  renderLock(lockBox, bucket, path, vq, h);
}

const EDITABLE = ['content-type', 'cache-control', 'content-disposition', 'content-encoding',
  'content-language'];

/** Edits the metadata: CopyObject onto itself with x-amz-metadata-directive REPLACE (tags
 * are kept: the tagging directive stays COPY). Resolves true when saved. */
function metadataDialog(bucket, key, h, user, size) {
  const inputs = {};
  const fields = EDITABLE.map((name) => {
    inputs[name] = el('input', { type: 'text', value: h.get(name) || '', autocomplete: 'off',
      spellcheck: 'false' });
    return field(name.replace(/^content-/, 'Content-').replace(/^cache-/, 'Cache-')
      .replace(/-(\w)/g, (m, c) => '-' + c.toUpperCase()), inputs[name]);
  });
  const rows = el('div', { class: 'tag-rows' });
  const addRow = (k = '', v = '') => {
    const n = rows.children.length + 1;
    const ki = el('input', { type: 'text', value: k, 'aria-label': `Metadata ${n} name` });
    const vi = el('input', { type: 'text', value: v, 'aria-label': `Metadata ${n} value` });
    const row = el('div', { class: 'tag-row' }, ki, vi, el('button', { type: 'button',
      class: 'secondary small', 'aria-label': `Remove metadata ${n}`,
      onclick: () => row.remove() }, 'Remove'));
    row.ki = ki;
    row.vi = vi;
    rows.appendChild(row);
  };
  user.forEach((m) => addRow(m.name, m.value));
  return openDialog({
    title: 'Edit metadata',
    wide: true,
    body: [
      ...fields,
      el('h3', null, 'User metadata (x-amz-meta-*)'),
      rows,
      el('button', { type: 'button', class: 'secondary', onclick: () => addRow() },
        'Add metadata'),
      el('p', { class: 'hint' }, 'Saving copies the object onto itself with the new metadata '
        + '(in a versioned bucket: a new version).'),
    ],
    actions: [{ label: 'Save', onClick: async () => {
      if (size > 5 * 1024 * 1024 * 1024) {
        throw new Error('Objects above 5 GiB cannot be copied in one request; metadata of '
          + 'such objects cannot be edited here.');
      }
      const headers = { 'x-amz-copy-source': `/${bucket}/${uriEncode(key, true)}`,
        'x-amz-metadata-directive': 'REPLACE' };
      for (const name of EDITABLE) {
        if (inputs[name].value.trim()) headers[name] = inputs[name].value.trim();
      }
      for (const r of Array.from(rows.children)) {
        const n = r.ki.value.trim().toLowerCase();
        if (!n) continue;
        if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(n)) {
          throw new Error(`"${n}" is not a valid metadata name (letters, digits, - _ .).`);
        }
        headers[`x-amz-meta-${n}`] = encodeHeaderValue(r.vi.value);
      }
      const a = await api.s3('PUT', `/${bucket}/${key}`, { headers });
      if (a.xml && a.xml.documentElement.localName === 'Error') {
        throw new Error(`${xmlText(a.xml, 'Code')}: ${xmlText(a.xml, 'Message')}`);
      }
      return true;
    } }],
  });
}

/** A header value as the browser may send it: printable ASCII as is, else RFC 2047
 * (=?UTF-8?B?...?=), which S3 clients decode. */
function encodeHeaderValue(v) {
  if (/^[\x20-\x7e]*$/.test(v)) return v;
  const bytes = new TextEncoder().encode(v);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `=?UTF-8?B?${btoa(bin)}?=`;
}

const RASTER_TYPES = /^image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)\b/;

async function renderPreview(box, path, vq, type, size, key, ctx) {
  const lower = type.toLowerCase();
  // raster images only: an SVG (a document that can hold script) is shown as source text,
  // and a blob: URL has the console's origin
  const isImage = RASTER_TYPES.test(lower);
  const isText = TEXT_TYPES.test(lower) || TEXT_EXT.test(key) || lower.includes('svg');
  if (isImage && size <= PREVIEW_IMAGE_MAX) {
    box.appendChild(loading('Loading the preview…'));
    try {
      const a = await api.s3('GET', path, { query: vq, raw: true, signal: ctx.signal });
      const url = URL.createObjectURL(a.blob);
      ctx.signal.addEventListener('abort', () => URL.revokeObjectURL(url));
      const img = el('img', { src: url, alt: `Preview of ${key}` });
      box.replaceChildren(img);
    } catch (e) {
      if (e.code !== 'Aborted') box.replaceChildren(errorBox(e));
    }
    return;
  }
  if (isText || (size > 0 && size <= 4096 && !isImage && !lower.startsWith('video/')
    && !lower.startsWith('audio/'))) {
    box.appendChild(loading('Loading the preview…'));
    try {
      const a = await api.s3('GET', path, { query: vq, raw: true, signal: ctx.signal,
        headers: size > PREVIEW_TEXT_MAX ? { range: `bytes=0-${PREVIEW_TEXT_MAX - 1}` } : {} });
      const bytes = new Uint8Array(await a.blob.arrayBuffer());
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
      const binary = [...text.slice(0, 2048)].filter((c) => c === '\uFFFD' || c === '\0')
        .length > 8;
      if (binary) {
        box.replaceChildren(el('p', { class: 'muted' }, 'This looks like binary data: no '
          + 'preview.'));
        return;
      }
      const nodes = [];
      if (/html|svg/.test(lower)) {
        nodes.push(el('p', { class: 'hint' }, 'HTML and SVG are shown as source text, never '
          + 'rendered in the console.'));
      }
      nodes.push(el('pre', { tabindex: '0', 'aria-label': `Contents of ${key}` }, text));
      if (size > PREVIEW_TEXT_MAX) {
        nodes.push(el('p', { class: 'hint' }, `The first ${formatBytes(PREVIEW_TEXT_MAX)} of `
          + `${formatBytes(size)}.`));
      }
      box.replaceChildren(...nodes);
    } catch (e) {
      if (e.code !== 'Aborted') box.replaceChildren(errorBox(e));
    }
    return;
  }
  box.appendChild(el('p', { class: 'muted' }, isImage ? 'The image is too large for a preview.'
    : `No preview for this type (${type || 'unknown'}). Download it or open it in a new tab.`));
}

async function renderTags(box, path, vq) {
  box.replaceChildren(loading());
  let tags;
  try {
    const a = await api.s3('GET', path, { query: { tagging: '', ...vq } });
    tags = xmlAll(a.xml, 'Tag').map((t) => ({ key: xmlText(t, 'Key'),
      value: xmlText(t, 'Value') }));
  } catch (e) {
    box.replaceChildren(errorBox(e));
    return;
  }
  const rows = el('div', { class: 'tag-rows' });
  const addRow = (k = '', v = '') => {
    const n = rows.children.length + 1;
    const ki = el('input', { type: 'text', value: k, 'aria-label': `Tag ${n} key`,
      maxlength: '128' });
    const vi = el('input', { type: 'text', value: v, 'aria-label': `Tag ${n} value`,
      maxlength: '256' });
    const row = el('div', { class: 'tag-row' }, ki, vi, el('button', { type: 'button',
      class: 'secondary small', 'aria-label': `Remove tag ${n}`, onclick: () => row.remove() },
    'Remove'));
    row.ki = ki;
    row.vi = vi;
    rows.appendChild(row);
  };
  tags.forEach((t) => addRow(t.key, t.value));
  const save = el('button', { type: 'button' }, 'Save tags');
  save.addEventListener('click', async () => {
    const list = Array.from(rows.children).map((r) => ({ key: r.ki.value, value: r.vi.value }))
      .filter((t) => t.key !== '' || t.value !== '');
    if (list.length > 10) {
      toast('An object has at most 10 tags.', 'error');
      return;
    }
    save.disabled = true;
    try {
      if (list.length) {
        const xml = '<Tagging><TagSet>' + list.map((t) => `<Tag><Key>${xmlEscape(t.key)}</Key>`
          + `<Value>${xmlEscape(t.value)}</Value></Tag>`).join('') + '</TagSet></Tagging>';
        await api.s3('PUT', path, { query: { tagging: '', ...vq }, body: xml,
          headers: { 'content-type': 'application/xml' } });
      } else {
        await api.s3('DELETE', path, { query: { tagging: '', ...vq } });
      }
      toast('Tags saved.', 'success');
      renderTags(box, path, vq);
    } catch (e) {
      toast(`Could not save the tags: ${errorText(e)}`, 'error');
    } finally {
      save.disabled = false;
    }
  });
  box.replaceChildren(
    el('p', { class: 'muted', hidden: tags.length > 0 }, 'No tags.'),
    rows,
    el('div', { class: 'toolbar' }, el('button', { type: 'button', class: 'secondary',
      onclick: () => addRow() }, 'Add tag'), save));
}

async function listVersions(bucket, key) {
  const out = [];
  let keyMarker;
  let versionMarker;
  for (let round = 0; round < 50; round++) {
    const a = await api.s3('GET', `/${bucket}`, { query: { versions: '', prefix: key,
      'max-keys': '1000', 'key-marker': keyMarker, 'version-id-marker': versionMarker } });
    let past = false;
    for (const node of Array.from(a.xml.documentElement.children)) {
      if (node.localName !== 'Version' && node.localName !== 'DeleteMarker') continue;
      const k = xmlText(node, 'Key');
      if (k !== key) {
        if (k > key) past = true;
        continue;
      }
      out.push({ id: xmlText(node, 'VersionId'), latest: xmlText(node, 'IsLatest') === 'true',
        marker: node.localName === 'DeleteMarker', size: Number(xmlText(node, 'Size') || 0),
        modified: xmlText(node, 'LastModified'), etag: xmlText(node, 'ETag') });
    }
    if (past || xmlText(a.xml, 'IsTruncated') !== 'true') break;
    keyMarker = xmlText(a.xml, 'NextKeyMarker');
    versionMarker = xmlText(a.xml, 'NextVersionIdMarker') || undefined;
  }
  return out;
}

async function renderVersions(box, bucket, key, current, ctx) {
  box.replaceChildren(loading());
  let versions;
  try {
    versions = await listVersions(bucket, key);
  } catch (e) {
    box.replaceChildren(errorBox(e));
    return;
  }
  if (!versions.length || (versions.length === 1 && versions[0].id === 'null')) {
    box.replaceChildren(el('p', { class: 'muted' }, 'Only one version: versioning is not '
      + 'enabled on this bucket, or the object was never overwritten.'));
    return;
  }
  const reload = () => renderVersions(box, bucket, key, current, ctx);
  const t = table([
    { label: 'Version', class: 'key', render: (v) => (v.marker ? v.id
      : el('a', { href: `${href.object(bucket, key)}?version=${encodeURIComponent(v.id)}`,
        'aria-current': v.id === current ? 'page' : null }, v.id)) },
    { label: 'State', render: (v) => [v.marker ? 'Delete marker' : 'Version',
      v.latest ? ' (current)' : ''].join('') },
    { label: 'Size', class: 'num', render: (v) => (v.marker ? '—' : formatBytes(v.size)) },
    { label: 'Last modified', render: (v) => formatDate(v.modified) },
    { label: '', ariaLabel: 'Actions', class: 'actions', render: (v) => [
      v.marker || v.latest ? null : el('button', { type: 'button', class: 'secondary small',
        'aria-label': `Restore version ${v.id}`, onclick: async () => {
          if (!await confirmDialog('Restore this version?', `Version ${v.id} is copied over `
            + `${key} and becomes the current version; the others stay.`,
          { confirmLabel: 'Restore' })) return;
          try {
            await copyObject({ bucket, key }, { bucket, key }, { versionId: v.id });
            toast('Version restored.', 'success');
            ctx.navigate(href.object(bucket, key));
            reload();
          } catch (e) {
            toast(`Could not restore: ${errorText(e)}`, 'error');
          }
        } }, 'Restore'),
      el('button', { type: 'button', class: 'danger small', 'aria-label': `Delete version ${v.id}`,
        onclick: async () => {
          if (!await confirmDialog('Delete this version?', [`Version ${v.id} of ${key} is `
            + 'removed permanently.', v.marker ? 'Removing the current delete marker brings '
            + 'the previous version back.' : ''], { danger: true })) return;
          try {
            await api.s3('DELETE', `/${bucket}/${key}`, { query: { versionId: v.id } });
            toast('Version deleted.', 'success');
            if (v.id === current) ctx.navigate(href.object(bucket, key));
            else reload();
          } catch (e) {
            toast(`Could not delete the version: ${errorText(e)}`, 'error');
          }
        } }, 'Delete'),
    ] },
  ], versions, { caption: `${versions.length} versions (newest first)` });
  box.replaceChildren(el('div', { class: 'table-wrap' }, t));
}

function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:`
    + `${p(d.getMinutes())}`;
}

async function renderLock(box, bucket, path, vq, h) {
  box.replaceChildren(loading());
  try {
    await api.s3('GET', `/${bucket}`, { query: { 'object-lock': '' } });
  } catch (e) {
    box.replaceChildren(el('p', { class: 'muted' }, e.code
      === 'ObjectLockConfigurationNotFoundError' ? 'Object lock is not enabled on this bucket.'
      : `Object lock settings are not readable: ${errorText(e)}`));
    return;
  }
  let mode = h.get('x-amz-object-lock-mode') || '';
  let until = h.get('x-amz-object-lock-retain-until-date') || '';
  let hold = (h.get('x-amz-object-lock-legal-hold') || '').toUpperCase() === 'ON';
  try {
    const a = await api.s3('GET', path, { query: { retention: '', ...vq } });
    mode = xmlText(a.xml, 'Mode') || mode;
    until = xmlText(a.xml, 'RetainUntilDate') || until;
  } catch { /* NoSuchObjectLockConfiguration: no retention */ }
  try {
    const a = await api.s3('GET', path, { query: { 'legal-hold': '', ...vq } });
    hold = xmlText(a.xml, 'Status') === 'ON';
  } catch { /* no legal hold set */ }
  const modeSel = el('select', null,
    el('option', { value: '', selected: !mode }, 'None'),
    el('option', { value: 'GOVERNANCE', selected: mode === 'GOVERNANCE' }, 'Governance'),
    el('option', { value: 'COMPLIANCE', selected: mode === 'COMPLIANCE' }, 'Compliance'));
  const date = el('input', { type: 'datetime-local', value: until ? toLocalInput(until) : '' });
  const bypass = el('input', { type: 'checkbox' });
  const saveRet = el('button', { type: 'button' }, 'Save retention');
  const holdBox = el('input', { type: 'checkbox', checked: hold });
  const saveHold = el('button', { type: 'button' }, 'Save legal hold');
  saveRet.addEventListener('click', async () => {
    let xml;
    if (modeSel.value) {
      const d = new Date(date.value);
      if (!date.value || Number.isNaN(d.getTime())) {
        toast('Choose the date the retention lasts until.', 'error');
        return;
      }
      xml = `<Retention><Mode>${modeSel.value}</Mode><RetainUntilDate>${d.toISOString()}`
        + '</RetainUntilDate></Retention>';
    } else {
      xml = '<Retention></Retention>';
    }
    try {
      await api.s3('PUT', path, { query: { retention: '', ...vq }, body: xml,
        headers: { 'content-type': 'application/xml', ...(bypass.checked
          ? { 'x-amz-bypass-governance-retention': 'true' } : {}) } });
      toast('Retention saved.', 'success');
    } catch (e) {
      toast(`Could not save the retention: ${errorText(e)}`, 'error');
    }
  });
  saveHold.addEventListener('click', async () => {
    try {
      await api.s3('PUT', path, { query: { 'legal-hold': '', ...vq }, body:
        `<LegalHold><Status>${holdBox.checked ? 'ON' : 'OFF'}</Status></LegalHold>`,
      headers: { 'content-type': 'application/xml' } });
      toast(`Legal hold ${holdBox.checked ? 'on' : 'off'}.`, 'success');
    } catch (e) {
      toast(`Could not change the legal hold: ${errorText(e)}`, 'error');
    }
  });
  box.replaceChildren(
    el('h3', null, 'Retention'),
    mode ? el('p', null, `${mode} until ${formatDate(until)}.`) : el('p', { class: 'muted' },
      'No retention on this version.'),
    el('div', { class: 'inline-fields' }, field('Mode', modeSel), field('Retain until', date)),
    field('Bypass governance retention (shorten or remove a governance lock)', bypass),
    saveRet,
    el('h3', null, 'Legal hold'),
    field('Legal hold on', holdBox, 'While on, this version cannot be deleted or overwritten.'),
    saveHold);
}

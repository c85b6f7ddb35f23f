// Machine images: the signed JSON API /_images (docs/images.md) — list, register from a
// bundle's manifest with progress until available / failed, publish, rename, deregister,
// download (a presigned GET of /_images/{id} on the S3 origin).

import { api } from '../api.js';
import {
  clear, confirmDialog, el, errorText, formatBytes, formatDate, loading, openDialog, pageHeader,
  table, toast,
} from '../ui.js';
import {
  actions, attempt, button, errorArea, focusMemo, input, select, showError, textarea,
} from '../forms.js';

const POLL_MS = 1500;
const ARCHITECTURES = [['', 'From the manifest'], ['x86_64', 'x86_64'], ['i386', 'i386'],
  ['arm64', 'arm64'], ['x86_64_mac', 'x86_64_mac'], ['arm64_mac', 'arm64_mac']];

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => { clearTimeout(t); resolve(); },
      { once: true });
  });
}

export async function render(main, params, ctx) {
  const signal = (ctx && ctx.signal) || new AbortController().signal;
  if (ctx && ctx.setTitle) ctx.setTitle('Machine images');
  clear(main);
  const listBox = el('div', { class: 'c-images' });
  const listError = errorArea();
  const refresh = button('Refresh', () => load());
  main.append(pageHeader('Machine images', refresh));
  main.append(el('p', { class: 'c-help' }, 'Disk images registered from bundles uploaded to '
    + 'a bucket (see "objectstore image bundle"). Registration runs in the background: the '
    + 'image is pending until it is available or failed.'));

  let polling = false;
  let shown = null;
  async function load() {
    showError(listError, null);
    if (!listBox.firstChild) listBox.append(loading());
    let images;
    try {
      images = await api.images('GET', '');
    } catch (err) {
      clear(listBox);
      shown = null;
      showError(listError, err);
      return [];
    }
    if (signal.aborted) return images || [];
    const now = JSON.stringify(images || []);
    if (now !== shown) { // re-rendering an unchanged table would only move the focus away
      shown = now;
      const restore = focusMemo(listBox);
      clear(listBox);
      listBox.append(imageTable(images || [], load));
      restore();
    }
    if (!polling && (images || []).some((im) => im.imageState === 'pending')) {
      polling = true;
      (async () => {
        while (!signal.aborted) {
          await sleep(POLL_MS * 2, signal);
          if (signal.aborted) break;
          const now = await load();
          if (!now.some((im) => im.imageState === 'pending')) break;
        }
        polling = false;
      })();
    }
    return images || [];
  }

  main.append(el('h2', null, 'Images'), listError, listBox);
  main.append(registerForm(signal, load));
  await load();
}

function shortId(id) {
  return id && id.length > 14 ? `${id.slice(0, 12)}…` : (id || '');
}

function stateText(im) {
  if (im.imageState === 'failed' && im.stateReason) return `failed: ${im.stateReason}`;
  return im.imageState || '';
}

function imageTable(images, reload) {
  const columns = [
    { label: 'Image', render: (im) => el('div', { class: 'c-image-cell' },
      el('code', null, im.imageId), el('span', null, im.displayName || ''),
      el('span', { class: 'c-sub' }, im.imageLocation || '')) },
    { label: 'State', render: (im) => el('span', { class: `c-state c-state-${im.imageState}` },
      stateText(im)) },
    { label: 'Visibility', render: (im) => (im.isPublic ? 'Public' : 'Private') },
    { label: 'Type', render: (im) => [im.imageType || im.type, im.architecture]
      .filter(Boolean).join(', ') },
    { label: 'Size', class: 'num', render: (im) => (im.size === undefined || im.size === null
      ? '—' : formatBytes(im.size)) },
    { label: 'Created', render: (im) => formatDate(im.creationDate) },
    { label: 'Owner', render: (im) => el('span', { title: im.imageOwnerId || '' },
      shortId(im.imageOwnerId)) },
    { label: '', ariaLabel: 'Actions', render: (im) => rowActions(im, reload) },
  ];
  return el('div', { class: 'table-wrap' }, table(columns, images, {
    caption: `${images.length} image${images.length === 1 ? '' : 's'}`,
    rowTestId: 'image-row', empty: 'No images yet: register one below.',
  }));
}

function rowActions(im, reload) {
  const name = im.displayName || im.imageId;
  const box = el('div', { class: 'c-row-actions', 'data-image': im.imageId });
  const run = async (btn, work, done) => {
    const restore = focusMemo();
    btn.disabled = true;
    try {
      await work();
      toast(done, 'success');
      await reload();
      restore();
    } catch (err) {
      toast(`${name}: ${errorText(err)}`, 'error');
    } finally {
      btn.disabled = false;
    }
  };
  const publish = button(im.isPublic ? 'Unpublish' : 'Publish', () => run(publish,
    () => api.images('POST', im.imageId, { operation: im.isPublic ? 'remove' : 'add' }),
    im.isPublic ? `${name} is private now.` : `${name} is public now.`),
  { 'aria-label': `${im.isPublic ? 'Unpublish' : 'Publish'} ${name}` });
  const rename = button('Rename', () => renameDialog(im, reload),
    { 'aria-label': `Rename ${name}` });
  const download = button('Download', () => {
    try {
      downloadImage(im);
    } catch (err) {
      toast(`${name}: ${errorText(err)}`, 'error');
    }
  }, { 'aria-label': `Download ${name}` });
  download.disabled = im.imageState !== 'available';
  const remove = button('Deregister', async () => {
    if (!await confirmDialog(`Deregister ${name}?`, `The image ${im.imageId} and its stored `
      + 'copy are removed; the bundle in its bucket stays.', { danger: true,
      confirmLabel: 'Deregister' })) return;
    await run(remove, () => api.images('DELETE', im.imageId), `${name} deregistered.`);
  }, { class: 'danger', 'aria-label': `Deregister ${name}` });
  box.append(publish, rename, download, remove);
  return box;
}

/** Opens a presigned GET of /_images/{id} (the S3 origin, a new tab: the browser saves the
 *  application/octet-stream answer). Valid as long as the session, at most an hour. */
function downloadImage(im) {
  const seconds = Math.max(1, Math.min(3600, api.sessionRemaining()));
  const url = api.presignPath('GET', `/_images/${im.imageId}`, seconds);
  const a = el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', hidden: true,
    'data-testid': 'image-download' });
  document.body.append(a);
  a.click();
  a.remove();
}

async function renameDialog(im, reload) {
  const name = input('Name', { value: im.displayName || '' });
  const description = textarea('Description', { rows: '3', value: im.description || '' });
  const done = await openDialog({
    title: `Rename ${im.imageId}`,
    body: [name.row, description.row],
    actions: [{ label: 'Save', value: true, onClick: () => api.images('POST', im.imageId, {
      display_name: name.input.value, description: description.input.value }) }],
  });
  if (done) {
    toast(`${im.imageId} renamed.`, 'success');
    await reload();
  }
}

// ------------------------------------------------------------------ register

function registerForm(signal, reload) {
  const error = errorArea();
  const manifestAt = input('Manifest location (bucket/key)', { placeholder:
    'my-images/disk.img.manifest.xml', autocomplete: 'off' },
  'The manifest of a bundle uploaded to a bucket you may read.');
  const bucket = select('Bucket', [['', 'Choose a bucket…']]);
  const manifest = select('Manifest', [['', 'Choose a bucket first']]);
  manifest.input.disabled = true;
  const name = input('Name (optional)');
  const description = input('Description (optional)');
  const arch = select('Architecture', ARCHITECTURES, '');
  const progressBox = el('div', { class: 'c-progress' });
  const picker = el('div', { class: 'c-picker' }, bucket.row, manifest.row);

  (async () => {
    try {
      const answer = await api.s3('GET', '/');
      for (const b of answer.xml ? Array.from(answer.xml.getElementsByTagName('Bucket')) : []) {
        const n = b.getElementsByTagName('Name')[0];
        if (n) bucket.input.append(el('option', { value: n.textContent }, n.textContent));
      }
    } catch { /* the text field still works */ }
  })();
  bucket.input.addEventListener('change', async () => {
    clear(manifest.input);
    manifest.input.disabled = true;
    const b = bucket.input.value;
    if (!b) {
      manifest.input.append(el('option', { value: '' }, 'Choose a bucket first'));
      return;
    }
    manifest.input.append(el('option', { value: '' }, 'Looking for manifests…'));
    try {
      const keys = await findManifests(b);
      clear(manifest.input);
      manifest.input.append(el('option', { value: '' }, keys.length
        ? 'Choose a manifest…' : 'No *.manifest.xml in this bucket'));
      for (const k of keys) manifest.input.append(el('option', { value: k }, k));
      manifest.input.disabled = keys.length === 0;
    } catch (err) {
      clear(manifest.input);
      manifest.input.append(el('option', { value: '' }, 'Could not list the bucket'));
      showError(error, err);
    }
  });
  manifest.input.addEventListener('change', () => {
    if (manifest.input.value) {
      manifestAt.input.value = `${bucket.input.value}/${manifest.input.value}`;
    }
  });

  const register = el('button', { type: 'submit', class: 'primary' }, 'Register image');
  const form = el('form', { class: 'c-form', 'aria-labelledby': 'register-heading' },
    el('h2', { id: 'register-heading' }, 'Register an image'),
    el('p', { class: 'c-help' }, 'Pick the manifest from a bucket, or type its location.'),
    picker, manifestAt.row, name.row, description.row, arch.row, error, progressBox,
    actions(register));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const where = manifestAt.input.value.trim().replace(/^\/+/, '');
    if (!/^[^/]+\/.+/.test(where)) {
      showError(error, 'Give the manifest as bucket/key, e.g. my-images/disk.img.manifest.xml.');
      manifestAt.input.focus();
      return;
    }
    await attempt(register, error, async () => {
      const query = { image_location: where };
      if (name.input.value.trim()) query.display_name = name.input.value.trim();
      if (description.input.value.trim()) query.description = description.input.value.trim();
      if (arch.input.value) query.architecture = arch.input.value;
      const answer = await api.images('PUT', '', query);
      toast(`Registering ${answer.imageId}…`, 'info');
      await reload();
      await follow(answer.imageId, progressBox, error, signal, reload);
    });
  });
  return form;
}

/** Keys ending in manifest.xml in a bucket (first 5,000 keys listed). */
async function findManifests(bucket) {
  const keys = [];
  let token = null;
  for (let page = 0; page < 5; page++) {
    const query = { 'list-type': '2', 'max-keys': '1000' };
    if (token) query['continuation-token'] = token;
    const answer = await api.s3('GET', `/${bucket}`, { query });
    const doc = answer.xml;
    if (!doc) break;
    for (const k of Array.from(doc.getElementsByTagName('Key'))) {
      if (k.textContent.endsWith('manifest.xml')) keys.push(k.textContent);
    }
    const next = doc.getElementsByTagName('NextContinuationToken')[0];
    const truncated = doc.getElementsByTagName('IsTruncated')[0];
    if (!next || !truncated || truncated.textContent !== 'true') break;
    token = next.textContent;
  }
  return keys;
}

/** Polls the list until the image is available or failed; shows a progress line (a live
 *  region told only of state changes; the elapsed time beside it is not announced). */
async function follow(imageId, box, error, signal, reload) {
  const started = Date.now();
  const bar = el('progress', { 'aria-label': `Registration of ${imageId}` });
  const line = el('span', { role: 'status' }, `${imageId}: pending`);
  const elapsed = el('span', { class: 'c-help' });
  clear(box);
  box.append(bar, line, elapsed);
  while (!signal.aborted) {
    let im;
    try {
      const all = await api.images('GET', '');
      im = (all || []).find((x) => x.imageId === imageId);
    } catch (err) {
      showError(error, err);
      return;
    }
    const secs = Math.round((Date.now() - started) / 1000);
    if (!im) {
      bar.remove();
      elapsed.textContent = '';
      line.textContent = `${imageId}: no longer listed (deregistered?)`;
      return;
    }
    if (im.imageState === 'available') {
      bar.max = 1;
      bar.value = 1;
      elapsed.textContent = '';
      line.textContent = `${imageId}: available after ${secs} s.`;
      toast(`${imageId} is available.`, 'success');
      await reload();
      return;
    }
    if (im.imageState === 'failed') {
      bar.remove();
      elapsed.textContent = '';
      line.textContent = `${imageId}: failed.`;
      showError(error, `Registration of ${imageId} failed: ${im.stateReason || 'no reason given'}`);
      await reload();
      return;
    }
    const text = `${imageId}: ${im.imageState}`;
    if (line.textContent !== text) line.textContent = text;
    elapsed.textContent = `(${secs} s)`;
    await sleep(POLL_MS, signal);
  }
}

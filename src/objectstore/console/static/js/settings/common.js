// Shared plumbing of the bucket settings sections: S3 Get*/Put*/Delete* of a bucket
// subresource, and a section frame (heading, status line, error area, reloadable body).

import { api } from '../api.js';
import { clear, el, toast } from '../ui.js';
import { attempt, errorArea, focusMemo, showError } from '../forms.js';

export function path(bucket) {
  return `/${bucket}`;
}

/** GET ?sub → the XML document, or null when S3 answers `notConfigured`. */
export async function getConfig(bucket, sub, notConfigured) {
  try {
    const answer = await api.s3('GET', path(bucket), { query: { [sub]: '' } });
    return answer.xml || answer.text;
  } catch (err) {
    if (notConfigured && err.code === notConfigured) return null;
    throw err;
  }
}

export function putConfig(bucket, sub, body, headers = {}) {
  return api.s3('PUT', path(bucket), { query: { [sub]: '' }, body,
    headers: { 'content-type': 'application/xml', ...headers } });
}

export function deleteConfig(bucket, sub) {
  return api.s3('DELETE', path(bucket), { query: { [sub]: '' } });
}

/** A section's frame: heading, intro, status line, error area, a body rebuilt by `load`.
 *  `load(view)` fills view.body and returns a status sentence. */
export function frame(panel, title, intro, load) {
  const status = el('p', { class: 'c-status', role: 'status' });
  const error = errorArea();
  const body = el('div', { class: 'c-section-body' });
  panel.append(el('h2', {}, title));
  if (intro) panel.append(el('p', { class: 'c-help' }, intro));
  panel.append(status, error, body);
  const view = { status, error, body, reload: null };
  view.reload = async () => {
    status.textContent = 'Loading…';
    clear(body);
    try {
      status.textContent = await load(view);
    } catch (err) {
      status.textContent = 'Could not load this setting.';
      showError(error, err);
    }
  };
  view.reload();
  return view;
}

/** Runs a save/delete from `btn`, shows errors in the view, toasts and reloads on success. */
export async function act(view, btn, done, work) {
  const restore = focusMemo();
  const ok = await attempt(btn, view.error, work);
  if (ok) {
    toast(done, 'success');
    await view.reload();
    restore();
  }
  return ok;
}

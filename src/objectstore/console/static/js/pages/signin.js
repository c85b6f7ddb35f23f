// Sign in: a long-term access key and secret are exchanged (STS GetSessionToken) for session
// credentials kept in sessionStorage; the secret itself is dropped right after the call.

import { api } from '../api.js';
import { el, errorBox, field, formatDuration } from '../ui.js';

const CHOICES = [3600, 4 * 3600, 8 * 3600, 12 * 3600, 24 * 3600, 36 * 3600];

export async function render(main, params, ctx) {
  ctx.setTitle('Sign in');
  const cfg = api.config();
  const max = Number(cfg.maxSessionSeconds) || 43200;
  const def = Math.min(Number(cfg.sessionSeconds) || 3600, max);
  const access = el('input', { type: 'text', name: 'accessKey', autocomplete: 'username',
    spellcheck: 'false', autocapitalize: 'none', required: true });
  const secret = el('input', { type: 'password', name: 'secretKey',
    autocomplete: 'off', required: true });
  const length = el('select', { name: 'duration' });
  const options = [...new Set([def, ...CHOICES.filter((s) => s <= max)])].sort((a, b) => a - b);
  for (const s of options) {
    length.appendChild(el('option', { value: String(s), selected: s === def },
      formatDuration(s)));
  }
  const status = el('div', { class: 'form-status' });
  const submit = el('button', { type: 'submit' }, 'Sign in');
  const form = el('form', { 'data-testid': 'signin', 'aria-labelledby': 'signin-title',
    novalidate: true },
  field('Access key', access),
  field('Secret key', secret),
  field('Session length', length, 'You are signed out automatically when the session ends '
      + 'or when this tab is closed.'),
  status, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.replaceChildren();
    if (!access.value.trim() || !secret.value) {
      status.appendChild(errorBox('Enter both the access key and the secret key.'));
      (access.value.trim() ? secret : access).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    const key = access.value;
    const sec = secret.value;
    secret.value = '';
    try {
      await api.signIn(key, sec, Number(length.value));
      const next = params.next && params.next.startsWith('#/') && !params.next.startsWith(
        '#/signin') ? params.next : '#/buckets';
      ctx.navigate(next);
    } catch (err) {
      status.appendChild(errorBox(err.code === 'NetworkError'
        ? `Could not reach the server at ${cfg.endpoint}. Is it running?` : err));
      secret.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  main.appendChild(el('div', { class: 'signin-box' },
    el('h1', { id: 'signin-title' }, 'Sign in'),
    el('p', { class: 'muted' }, 'Use an access key and secret key of this server. They are '
      + 'exchanged for temporary session credentials; the secret key is not stored.'),
    form));
  access.focus();
}

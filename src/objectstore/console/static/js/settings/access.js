// Bucket settings: who may reach the bucket — ACL / public toggle, public access block,
// object ownership, bucket policy, CORS.

import { api } from '../api.js';
import { confirmDialog, el } from '../ui.js';
import * as cfg from '../bucketconfig.js';
import {
  actions, button, checkbox, fieldset, grid, input, plural, positiveInt, primary,
  radios, select, showError, textarea,
} from '../forms.js';
import { act, deleteConfig, frame, getConfig, path, putConfig } from './common.js';

// ------------------------------------------------------------------ ACL / public toggle

export function accessSection(panel, bucket) {
  frame(panel, 'Access (ACL)', 'Who may read this bucket without credentials. Public read '
    + 'lets anyone list and download its objects (PutBucketAcl with a canned ACL); a public '
    + 'access block can refuse or ignore it.', async (view) => {
    const doc = await getConfig(bucket, 'acl');
    const acl = cfg.parseAcl(doc);
    const current = acl.publicWrite ? 'public-read-write' : (acl.publicRead ? 'public-read'
      : 'private');
    const choice = radios('Bucket ACL', [
      ['private', 'Private: only the owner and users its policies allow'],
      ['public-read', 'Public read: anyone may list and download objects'],
    ], current);
    const save = primary('Save access', async () => {
      const value = choice.selected();
      if (value === 'public-read' && !await confirmDialog('Make the bucket public?',
        `Anyone who knows the address can list and download every object in ${bucket}.`,
        { danger: true, confirmLabel: 'Make public' })) return;
      await act(view, save, value === 'public-read' ? 'The bucket is now public-read.'
        : 'The bucket is now private.', () => api.s3('PUT', path(bucket), {
        query: { acl: '' }, headers: { 'x-amz-acl': value } }));
    });
    view.body.append(choice.row, actions(save));
    view.body.append(grid(`Grants of ${bucket}`, ['Grantee', 'Permission'],
      acl.grants.map((g) => [cfg.granteeName(g), g.permission])));
    const who = acl.owner ? ` Owner: ${acl.owner.name || acl.owner.id}.` : '';
    if (acl.publicWrite) return `Public read and write.${who}`;
    return (acl.publicRead ? 'Public read.' : 'Private.') + who;
  });
}

// ------------------------------------------------------------------ public access block

export function publicAccessBlockSection(panel, bucket) {
  frame(panel, 'Public access block', 'Refuse or ignore public ACLs and bucket policies '
    + 'for this bucket (the account-wide block, set by an admin, applies too).',
  async (view) => {
    const doc = await getConfig(bucket, 'publicAccessBlock',
      'NoSuchPublicAccessBlockConfiguration');
    const flags = doc ? cfg.parsePublicAccessBlock(doc) : {};
    const boxes = cfg.PAB_FLAGS.map(([name, label]) => [name, checkbox(label, flags[name])]);
    const save = primary('Save public access block', () => act(view, save,
      'Public access block saved.', () => {
        const out = {};
        for (const [name, box] of boxes) out[name] = box.input.checked;
        return putConfig(bucket, 'publicAccessBlock', cfg.buildPublicAccessBlock(out));
      }));
    const remove = button('Remove public access block', () => act(view, remove,
      'Public access block removed.', () => deleteConfig(bucket, 'publicAccessBlock')),
    { class: 'danger' });
    remove.disabled = !doc;
    view.body.append(fieldset('Block settings', ...boxes.map(([, b]) => b.row)),
      actions(save, remove));
    if (!doc) return 'Not configured.';
    const on = cfg.PAB_FLAGS.filter(([name]) => flags[name]).map(([, label]) => label);
    return on.length ? `On: ${on.join(', ')}.` : 'Configured, every setting off.';
  });
}

// ------------------------------------------------------------------ ownership

export function ownershipSection(panel, bucket) {
  frame(panel, 'Object ownership', 'Who owns objects other accounts upload, and whether '
    + 'ACLs are in effect.', async (view) => {
    const doc = await getConfig(bucket, 'ownershipControls', 'OwnershipControlsNotFoundError');
    const value = doc ? cfg.parseOwnership(doc) : '';
    const choice = select('Object ownership', cfg.OWNERSHIP, value || 'BucketOwnerEnforced');
    const save = primary('Save ownership', () => act(view, save, 'Object ownership saved.',
      () => putConfig(bucket, 'ownershipControls', cfg.buildOwnership(choice.input.value))));
    const remove = button('Remove ownership controls', () => act(view, remove,
      'Ownership controls removed.', () => deleteConfig(bucket, 'ownershipControls')),
    { class: 'danger' });
    remove.disabled = !doc;
    view.body.append(choice.row, actions(save, remove));
    if (!doc) return 'Not configured.';
    const label = cfg.OWNERSHIP.find(([v]) => v === value);
    return `${label ? label[1] : value}.`;
  });
}

// ------------------------------------------------------------------ policy

function policyTemplate(bucket) {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{
      Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'],
      Resource: [`arn:aws:s3:::${bucket}/*`],
    }],
  }, null, 2);
}

export function policySection(panel, bucket) {
  frame(panel, 'Bucket policy', 'A JSON policy document. It is checked here for JSON syntax; '
    + 'the server validates the rest and its message is shown as it is.', async (view) => {
    const text = await getConfig(bucket, 'policy', 'NoSuchBucketPolicy');
    let policy = '';
    if (text !== null) {
      policy = typeof text === 'string' ? text : new XMLSerializer().serializeToString(text);
      try {
        policy = JSON.stringify(JSON.parse(policy), null, 2);
      } catch { /* shown as stored */ }
    }
    const editor = textarea('Policy document (JSON)', { rows: '16', class: 'c-code' });
    editor.input.value = policy;
    const note = el('p', { class: 'c-note', 'aria-live': 'polite' });
    const check = () => {
      const problem = cfg.jsonProblem(editor.input.value);
      showError(view.error, problem);
      note.textContent = problem ? '' : 'The JSON is well formed.';
      return problem === null;
    };
    const checkBtn = button('Check JSON', check);
    const template = button('Insert public-read template', () => {
      editor.input.value = policyTemplate(bucket);
      note.textContent = 'Template inserted: review it, then save.';
    });
    const save = primary('Save policy', () => {
      note.textContent = '';
      if (!check()) return;
      note.textContent = '';
      act(view, save, 'Bucket policy saved.', () => api.s3('PUT', path(bucket), {
        query: { policy: '' }, body: editor.input.value,
        headers: { 'content-type': 'application/json' } }));
    });
    const remove = button('Delete policy', async () => {
      if (!await confirmDialog('Delete the bucket policy?',
        `The policy of ${bucket} will be removed.`,
        { danger: true, confirmLabel: 'Delete policy' })) return;
      act(view, remove, 'Bucket policy deleted.', () => deleteConfig(bucket, 'policy'));
    }, { class: 'danger' });
    remove.disabled = text === null;
    view.body.append(editor.row, note, actions(checkBtn, template, save, remove));
    if (text === null) return 'No bucket policy.';
    try {
      const status = await api.s3('GET', path(bucket), { query: { policyStatus: '' } });
      const pub = cfg.txt(status.xml && status.xml.documentElement, 'IsPublic') === 'true';
      return pub ? 'A policy is set; it makes the bucket public.' : 'A policy is set.';
    } catch {
      return 'A policy is set.';
    }
  });
}

// ------------------------------------------------------------------ CORS

export function corsSection(panel, bucket) {
  frame(panel, 'CORS', 'Which web origins may call this bucket from a browser (the console '
    + 'itself does not need a rule).', async (view) => {
    const doc = await getConfig(bucket, 'cors', 'NoSuchCORSConfiguration');
    const rules = doc ? cfg.parseCors(doc) : [];
    const saveRules = (btn, list, done) => act(view, btn, done, () => (list.length
      ? putConfig(bucket, 'cors', cfg.buildCors(list)) : deleteConfig(bucket, 'cors')));
    const rows = rules.map((r, i) => {
      const del = button('Delete rule', async () => {
        if (!await confirmDialog('Delete this CORS rule?',
          `Rule ${r.id || i + 1} (${r.origins.join(', ')}) will be removed.`,
          { danger: true, confirmLabel: 'Delete rule' })) {
          return;
        }
        saveRules(del, rules.filter((_, j) => j !== i), 'CORS rule deleted.');
      }, { class: 'danger', 'aria-label': `Delete rule ${r.id || i + 1}` });
      return [r.id || String(i + 1), r.origins.join(', '), r.methods.join(', '),
        r.headers.join(', '), r.expose.join(', '), r.maxAge === null ? '' : String(r.maxAge), del];
    });
    if (rules.length) {
      view.body.append(grid(`CORS rules of ${bucket}`,
        ['Rule', 'Allowed origins', 'Methods', 'Allowed headers', 'Exposed headers',
          'Max age (s)', 'Actions'], rows));
    }
    const id = input('Rule ID (optional)');
    const origins = textarea('Allowed origins (one per line, * for any)', { rows: '3' });
    const methods = cfg.CORS_METHODS.map((m) => [m, checkbox(m, m === 'GET')]);
    const headers = textarea('Allowed headers (one per line, optional)', { rows: '2' });
    const expose = textarea('Exposed headers (one per line, optional)', { rows: '2' });
    const maxAge = input('Max age in seconds (optional)', { inputmode: 'numeric' });
    const add = primary('Add rule', () => {
      let rule;
      try {
        rule = {
          id: id.input.value.trim(),
          origins: cfg.splitList(origins.input.value),
          methods: methods.filter(([, b]) => b.input.checked).map(([m]) => m),
          headers: cfg.splitList(headers.input.value),
          expose: cfg.splitList(expose.input.value),
          maxAge: maxAge.input.value.trim() === '' ? null
            : positiveInt(maxAge.input.value, 'Max age'),
        };
      } catch (err) {
        showError(view.error, err.message);
        return;
      }
      if (!rule.origins.length) return showError(view.error, 'Give at least one origin.');
      if (!rule.methods.length) return showError(view.error, 'Choose at least one method.');
      saveRules(add, [...rules, rule], 'CORS rule added.');
    });
    const remove = button('Remove CORS configuration', async () => {
      if (!await confirmDialog('Remove every CORS rule?', `Browsers on other origins will no `
        + `longer be allowed to call ${bucket}.`,
        { danger: true, confirmLabel: 'Remove CORS' })) return;
      act(view, remove, 'CORS configuration removed.', () => deleteConfig(bucket, 'cors'));
    }, { class: 'danger' });
    remove.disabled = !doc;
    view.body.append(
      el('h3', {}, 'Add a rule'), id.row, origins.row,
      fieldset('Allowed methods', ...methods.map(([, b]) => b.row)),
      headers.row, expose.row, maxAge.row, actions(add, remove));
    return doc ? `${plural(rules.length, 'rule')}.` : 'Not configured.';
  });
}

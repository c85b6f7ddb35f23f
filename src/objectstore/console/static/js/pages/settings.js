// Bucket settings: one tab per S3 bucket configuration, each loaded with its S3 Get* call
// ("not configured" on the error code S3 answers for that) and saved with Put*/Delete*.

import { api } from '../api.js';
import { clear, confirmDialog, el, href, pageHeader, table, tabs, toast } from '../ui.js';
import * as cfg from '../bucketconfig.js';
import {
  actions, attempt, button, checkbox, errorArea, fieldset, focusMemo, grid, input, plural,
  positiveInt, primary, radios, select, showError, textarea,
} from '../forms.js';

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

// ------------------------------------------------------------------ shared plumbing

function path(bucket) {
  return `/${bucket}`;
}

/** GET ?sub → the XML document, or null when S3 answers `notConfigured`. */
async function getConfig(bucket, sub, notConfigured) {
  try {
    const answer = await api.s3('GET', path(bucket), { query: { [sub]: '' } });
    return answer.xml || answer.text;
  } catch (err) {
    if (notConfigured && err.code === notConfigured) return null;
    throw err;
  }
}

function putConfig(bucket, sub, body, headers = {}) {
  return api.s3('PUT', path(bucket), { query: { [sub]: '' }, body,
    headers: { 'content-type': 'application/xml', ...headers } });
}

function deleteConfig(bucket, sub) {
  return api.s3('DELETE', path(bucket), { query: { [sub]: '' } });
}

/** A section's frame: heading, intro, status line, error area, a body rebuilt by `load`.
 *  `load(view)` fills view.body and returns a status sentence. */
function frame(panel, title, intro, load) {
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
async function act(view, btn, done, work) {
  const restore = focusMemo();
  const ok = await attempt(btn, view.error, work);
  if (ok) {
    toast(done, 'success');
    await view.reload();
    restore();
  }
  return ok;
}

// ------------------------------------------------------------------ ACL / public toggle

function accessSection(panel, bucket) {
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

function publicAccessBlockSection(panel, bucket) {
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

function ownershipSection(panel, bucket) {
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

function policySection(panel, bucket) {
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

function corsSection(panel, bucket) {
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

// ------------------------------------------------------------------ versioning

function versioningSection(panel, bucket) {
  frame(panel, 'Versioning', 'Keep every version of every object. Once enabled, versioning '
    + 'can be suspended but not turned off.', async (view) => {
    const v = cfg.parseVersioning(await getConfig(bucket, 'versioning'));
    const choice = radios('Versioning', [['Enabled', 'Enabled'], ['Suspended', 'Suspended']],
      v.status || '');
    const save = primary('Save versioning', () => {
      const status = choice.selected();
      if (!status) return showError(view.error, 'Choose Enabled or Suspended.');
      return act(view, save, `Versioning ${status.toLowerCase()}.`,
        () => putConfig(bucket, 'versioning', cfg.buildVersioning(status)));
    });
    view.body.append(choice.row, actions(save));
    return v.status ? `${v.status}.` : 'Never enabled.';
  });
}

// ------------------------------------------------------------------ object lock

function objectLockSection(panel, bucket) {
  frame(panel, 'Object Lock', 'Write-once-read-many protection with a default retention '
    + 'for new object versions. Object Lock needs versioning and cannot be turned off once '
    + 'enabled.', async (view) => {
    const doc = await getConfig(bucket, 'object-lock', 'ObjectLockConfigurationNotFoundError');
    const lock = doc ? cfg.parseObjectLock(doc) : { enabled: false, mode: '', period: null,
      unit: 'Days' };
    const mode = select('Default retention mode', [['', 'None'], ['GOVERNANCE', 'Governance'],
      ['COMPLIANCE', 'Compliance']], lock.mode);
    const period = input('Retention period', { inputmode: 'numeric',
      value: lock.period === null ? '' : String(lock.period) });
    const unit = select('Unit', [['Days', 'Days'], ['Years', 'Years']], lock.unit);
    const save = primary(lock.enabled ? 'Save default retention' : 'Enable Object Lock',
      async () => {
        let n = null;
        try {
          n = positiveInt(period.input.value, 'The retention period');
        } catch (err) {
          return showError(view.error, err.message);
        }
        if (mode.input.value && n === null) {
          return showError(view.error, 'Give a retention period for the default mode.');
        }
        if (!lock.enabled && !await confirmDialog('Enable Object Lock?',
          `Object Lock cannot be turned off again on ${bucket}.`,
          { danger: true, confirmLabel: 'Enable Object Lock' })) return;
        if (mode.input.value === 'COMPLIANCE' && !await confirmDialog(
          'Use compliance mode?', 'New versions cannot be deleted by anyone, root included, '
          + 'until their retention ends.',
          { danger: true, confirmLabel: 'Use compliance mode' })) return;
        return act(view, save, 'Object Lock configuration saved.', () => putConfig(bucket,
          'object-lock', cfg.buildObjectLock({ mode: mode.input.value, period: n,
            unit: unit.input.value })));
      });
    view.body.append(fieldset('Default retention', mode.row, period.row, unit.row),
      actions(save));
    if (!lock.enabled) return 'Not enabled on this bucket.';
    return lock.mode ? `Enabled; new versions kept ${lock.period} ${lock.unit.toLowerCase()} `
      + `in ${lock.mode} mode.` : 'Enabled; no default retention.';
  });
}

// ------------------------------------------------------------------ lifecycle

function days(n) {
  return n === null || n === undefined ? '' : `${n} day${n === 1 ? '' : 's'}`;
}

function lifecycleSection(panel, bucket) {
  frame(panel, 'Lifecycle rules', 'Expire objects, old versions and unfinished multipart '
    + 'uploads automatically.', async (view) => {
    const doc = await getConfig(bucket, 'lifecycle', 'NoSuchLifecycleConfiguration');
    const rules = doc ? cfg.parseLifecycle(doc) : [];
    const saveRules = (btn, xmls, done) => act(view, btn, done, () => (xmls.length
      ? putConfig(bucket, 'lifecycle', cfg.buildLifecycle(xmls))
      : deleteConfig(bucket, 'lifecycle')));
    if (rules.length) {
      const other = rules.some((r) => r.other.length);
      const headers = ['Rule', 'Status', 'Filter', 'Expiration', 'Noncurrent versions',
        'Incomplete uploads', ...(other ? ['Other actions'] : []), 'Actions'];
      view.body.append(grid(`Lifecycle rules of ${bucket}`, headers, rules.map((r, i) => {
        const del = button('Delete rule', async () => {
          if (!await confirmDialog('Delete this lifecycle rule?',
            `Rule ${r.id || i + 1} will be removed.`,
            { danger: true, confirmLabel: 'Delete rule' })) return;
          saveRules(del, rules.filter((_, j) => j !== i).map((x) => x.xml),
            'Lifecycle rule deleted.');
        }, { class: 'danger', 'aria-label': `Delete rule ${r.id || i + 1}` });
        const expire = r.expirationDays !== null ? `after ${days(r.expirationDays)}`
          : (r.expirationDate ? `on ${r.expirationDate}`
            : (r.deleteMarkers ? 'expired delete markers' : ''));
        const after = (n) => (n === null ? '' : `after ${days(n)}`);
        return [r.id || String(i + 1), r.status,
          [r.prefix ? `prefix ${r.prefix}` : '(whole bucket)', r.filter].filter(Boolean).join(', '),
          expire, after(r.noncurrentDays), after(r.abortDays),
          ...(other ? [r.other.join(', ')] : []), del];
      })));
    }
    const id = input('Rule ID (optional)');
    const prefix = input('Prefix (empty: the whole bucket)');
    const enabled = checkbox('Enabled', true);
    const exp = input('Expire current objects after (days)', { inputmode: 'numeric' });
    const nonc = input('Expire noncurrent versions after (days)', { inputmode: 'numeric' });
    const abort = input('Abort incomplete multipart uploads after (days)',
      { inputmode: 'numeric' });
    const add = primary('Add rule', () => {
      let rule;
      try {
        rule = {
          id: id.input.value.trim(), prefix: prefix.input.value,
          status: enabled.input.checked ? 'Enabled' : 'Disabled',
          expirationDays: positiveInt(exp.input.value, 'Expiration days'),
          noncurrentDays: positiveInt(nonc.input.value, 'Noncurrent days'),
          abortDays: positiveInt(abort.input.value, 'Abort days'),
        };
      } catch (err) {
        return showError(view.error, err.message);
      }
      if (!rule.expirationDays && !rule.noncurrentDays && !rule.abortDays) {
        return showError(view.error, 'Give at least one of the three periods.');
      }
      return saveRules(add, [...rules.map((r) => r.xml), cfg.buildLifecycleRule(rule)],
        'Lifecycle rule added.');
    });
    const remove = button('Remove all lifecycle rules', async () => {
      if (!await confirmDialog('Remove every lifecycle rule?',
        `No object of ${bucket} will expire automatically any more.`,
        { danger: true, confirmLabel: 'Remove rules' })) return;
      act(view, remove, 'Lifecycle configuration removed.',
        () => deleteConfig(bucket, 'lifecycle'));
    }, { class: 'danger' });
    remove.disabled = !doc;
    view.body.append(el('h3', {}, 'Add a rule'), id.row, prefix.row, enabled.row, exp.row,
      nonc.row, abort.row, actions(add, remove));
    return doc ? `${plural(rules.length, 'rule')}.` : 'Not configured.';
  });
}

// ------------------------------------------------------------------ default encryption

function encryptionSection(panel, bucket) {
  frame(panel, 'Default encryption', 'How new objects are encrypted when the upload asks '
    + 'for nothing: SSE-S3 (server-managed keys) or SSE-KMS (a named KMS key).',
  async (view) => {
    const doc = await getConfig(bucket, 'encryption',
      'ServerSideEncryptionConfigurationNotFoundError');
    const enc = doc ? cfg.parseEncryption(doc) : { algorithm: '', kmsKeyId: '',
      bucketKey: false };
    const algo = select('Encryption', [['AES256', 'SSE-S3 (AES256)'],
      ['aws:kms', 'SSE-KMS (aws:kms)']], enc.algorithm || 'AES256');
    const key = input('KMS key ID (empty: the default key aws/s3)', { value: enc.kmsKeyId });
    const bucketKey = checkbox('Use an S3 Bucket Key', enc.bucketKey);
    const sync = () => {
      const kms = algo.input.value === 'aws:kms';
      key.input.disabled = !kms;
      bucketKey.input.disabled = !kms;
    };
    algo.input.addEventListener('change', sync);
    sync();
    const save = primary('Save encryption', () => act(view, save, 'Default encryption saved.',
      () => putConfig(bucket, 'encryption', cfg.buildEncryption({
        algorithm: algo.input.value, kmsKeyId: key.input.value.trim(),
        bucketKey: bucketKey.input.checked }))));
    const remove = button('Remove default encryption', () => act(view, remove,
      'Default encryption removed.', () => deleteConfig(bucket, 'encryption')),
    { class: 'danger' });
    remove.disabled = !doc;
    view.body.append(algo.row, key.row, bucketKey.row, actions(save, remove));
    if (!doc) return 'Not configured.';
    if (enc.algorithm === 'aws:kms') return `SSE-KMS with key ${enc.kmsKeyId || 'aws/s3'}.`;
    return `SSE-S3 (${enc.algorithm}).`;
  });
}

// ------------------------------------------------------------------ website

function websiteSection(panel, bucket) {
  frame(panel, 'Static website', 'Serve the bucket as a website on the server\'s website '
    + 'port: an index document for folders, an error document for missing keys.',
  async (view) => {
    const doc = await getConfig(bucket, 'website', 'NoSuchWebsiteConfiguration');
    const site = doc ? cfg.parseWebsite(doc) : { index: '', error: '', redirectHost: '',
      routingRules: 0, routingXml: '' };
    const index = input('Index document', { value: site.index || 'index.html' });
    const error = input('Error document (optional)', { value: site.error });
    const save = primary('Save website', () => {
      if (!index.input.value.trim()) return showError(view.error, 'Give an index document.');
      return act(view, save, 'Website configuration saved.', () => putConfig(bucket, 'website',
        cfg.buildWebsite({ index: index.input.value.trim(), error: error.input.value.trim(),
          routingXml: site.routingXml })));
    });
    const remove = button('Remove website', () => act(view, remove,
      'Website configuration removed.', () => deleteConfig(bucket, 'website')),
    { class: 'danger' });
    remove.disabled = !doc;
    view.body.append(index.row, error.row);
    if (site.redirectHost) {
      view.body.append(el('p', { class: 'c-note' }, `Every request currently redirects to `
        + `${site.redirectHost}; saving replaces that with the documents above.`));
    }
    if (site.routingRules) {
      view.body.append(el('p', { class: 'c-note' }, `${site.routingRules} routing rule(s) `
        + 'are kept as they are.'));
    }
    view.body.append(actions(save, remove));
    if (!doc) return 'Not configured.';
    if (site.redirectHost) return `Redirects every request to ${site.redirectHost}.`;
    return `Index document ${site.index}` + (site.error ? `, error document ${site.error}.` : '.');
  });
}

// ------------------------------------------------------------------ logging

function loggingSection(panel, bucket) {
  frame(panel, 'Server access logging', 'Write a log of the requests to this bucket as '
    + 'objects in a target bucket of the same owner, whose bucket policy lets the log '
    + 'delivery service (principal {"Service": "logging.s3.amazonaws.com"}) s3:PutObject.',
  async (view) => {
    const target = cfg.parseLogging(await getConfig(bucket, 'logging'));
    const tb = input('Target bucket', { value: target ? target.bucket : '' });
    const tp = input('Target prefix', { value: target ? target.prefix : `logs/${bucket}/` });
    const save = primary('Save logging', () => {
      if (!tb.input.value.trim()) return showError(view.error, 'Give a target bucket.');
      return act(view, save, 'Logging enabled.', () => putConfig(bucket, 'logging',
        cfg.buildLogging({ bucket: tb.input.value.trim(), prefix: tp.input.value,
          extraXml: target ? target.extraXml : '' })));
    });
    const off = button('Turn logging off', () => act(view, off, 'Logging turned off.',
      () => putConfig(bucket, 'logging', cfg.buildLogging(null))), { class: 'danger' });
    off.disabled = !target;
    view.body.append(tb.row, tp.row, actions(save, off));
    return target ? `Logging to ${target.bucket}/${target.prefix}.` : 'Not configured (off).';
  });
}

// ------------------------------------------------------------------ tags

function tagsSection(panel, bucket) {
  frame(panel, 'Tags', 'Key/value labels of the bucket (up to 50).', async (view) => {
    const doc = await getConfig(bucket, 'tagging', 'NoSuchTagSet');
    const tags = doc ? cfg.parseTags(doc) : [];
    const list = el('div', { class: 'c-taglist' });
    const rows = [];
    let count = 0;
    const addRow = (key = '', value = '') => {
      count += 1;
      const n = count;
      const k = input(`Tag ${n} key`, { value: key });
      const v = input(`Tag ${n} value`, { value });
      const row = el('div', { class: 'c-tagrow' }, k.row, v.row);
      const entry = { k, v, row };
      const del = button('Remove', () => {
        rows.splice(rows.indexOf(entry), 1);
        row.remove();
      }, { 'aria-label': `Remove tag ${n}` });
      row.append(del);
      rows.push(entry);
      list.append(row);
      return k.input;
    };
    for (const t of tags) addRow(t.key, t.value);
    const more = button('Add tag', () => addRow().focus());
    const save = primary('Save tags', () => {
      const out = rows.map((r) => ({ key: r.k.input.value.trim(), value: r.v.input.value }))
        .filter((t) => t.key !== '' || t.value !== '');
      if (out.some((t) => t.key === '')) return showError(view.error, 'Every tag needs a key.');
      const keys = new Set(out.map((t) => t.key));
      if (keys.size !== out.length) return showError(view.error, 'Tag keys must be unique.');
      return act(view, save, out.length ? 'Tags saved.' : 'Tags removed.', () => (out.length
        ? putConfig(bucket, 'tagging', cfg.buildTags(out)) : deleteConfig(bucket, 'tagging')));
    });
    const remove = button('Remove all tags', () => act(view, remove, 'Tags removed.',
      () => deleteConfig(bucket, 'tagging')), { class: 'danger' });
    remove.disabled = !doc;
    view.body.append(list, actions(more, save, remove));
    return doc ? `${plural(tags.length, 'tag')}.` : 'No tags.';
  });
}

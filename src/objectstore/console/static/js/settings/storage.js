// Bucket settings: how objects are kept — versioning, Object Lock default retention,
// lifecycle rules, default encryption.

import { confirmDialog, el } from '../ui.js';
import * as cfg from '../bucketconfig.js';
import {
  actions, button, checkbox, fieldset, grid, input, plural, positiveInt, primary,
  radios, select, showError,
} from '../forms.js';
import { act, deleteConfig, frame, getConfig, putConfig } from './common.js';

// ------------------------------------------------------------------ versioning

export function versioningSection(panel, bucket) {
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

export function objectLockSection(panel, bucket) {
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

export function lifecycleSection(panel, bucket) {
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
        const next = r.status === 'Enabled' ? 'Disabled' : 'Enabled';
        const verb = next === 'Enabled' ? 'Enable' : 'Disable';
        const toggle = button(`${verb} rule`, () => saveRules(toggle, rules.map((x, j) => (j === i
          ? cfg.ruleWithStatus(x.xml, next) : x.xml)), `Lifecycle rule ${next.toLowerCase()}.`),
        { 'aria-label': `${verb} rule ${r.id || i + 1}` });
        const expire = r.expirationDays !== null ? `after ${days(r.expirationDays)}`
          : (r.expirationDate ? `on ${r.expirationDate}`
            : (r.deleteMarkers ? 'expired delete markers' : ''));
        const after = (n) => (n === null ? '' : `after ${days(n)}`);
        return [r.id || String(i + 1), r.status,
          [r.prefix ? `prefix ${r.prefix}` : '(whole bucket)', r.filter].filter(Boolean).join(', '),
          expire, after(r.noncurrentDays), after(r.abortDays),
          ...(other ? [r.other.join(', ')] : []),
          el('div', { class: 'c-row-actions' }, toggle, del)];
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

export function encryptionSection(panel, bucket) {
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

// Bucket settings: website, server access logging, tags.

import { el } from '../ui.js';
import * as cfg from '../bucketconfig.js';
import {
  actions, button, input, plural, primary, showError,
} from '../forms.js';
import { act, deleteConfig, frame, getConfig, putConfig } from './common.js';

// ------------------------------------------------------------------ website

export function websiteSection(panel, bucket) {
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

export function loggingSection(panel, bucket) {
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

export function tagsSection(panel, bucket) {
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

// Bucket configuration documents: S3's XML parsed into plain objects and built back.
// Pure functions (no I/O, no DOM output): the settings page renders what they return.

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

// ------------------------------------------------------------------ reading

/** The child elements of `node` whose local name is `name` (any namespace). */
export function kids(node, name) {
  if (!node) return [];
  return Array.from(node.children).filter((c) => c.localName === name);
}

/** The first child element named `name`, or null. */
export function kid(node, name) {
  return kids(node, name)[0] || null;
}

/** The text of the first child named `name` (trimmed), or null when absent. */
export function txt(node, name) {
  const c = kid(node, name);
  return c === null ? null : c.textContent.trim();
}

function root(doc) {
  return doc && doc.documentElement ? doc.documentElement : null;
}

function int(value) {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isInteger(n) ? n : null;
}

// ------------------------------------------------------------------ writing

/** XML-escape text for element content and attribute values. */
export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;',
  })[c]);
}

function elx(name, value) {
  return `<${name}>${esc(value)}</${name}>`;
}

function docx(name, inner) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${name} xmlns="${S3_NS}">${inner}</${name}>`;
}

/** An element of a fetched document as XML text (kept as is when rules are rewritten). */
export function serialize(node) {
  return new XMLSerializer().serializeToString(node);
}

// ------------------------------------------------------------------ ACL

/** GetBucketAcl → {owner, grants: [{type, id, name, uri, email, permission}], publicRead,
 *  publicWrite}. */
export function parseAcl(doc) {
  const r = root(doc);
  const owner = kid(r, 'Owner');
  const grants = kids(kid(r, 'AccessControlList'), 'Grant').map((g) => {
    const grantee = kid(g, 'Grantee');
    let type = '';
    if (grantee) {
      for (const a of Array.from(grantee.attributes)) {
        if (a.localName === 'type') type = a.value;
      }
    }
    return {
      type,
      id: txt(grantee, 'ID'),
      name: txt(grantee, 'DisplayName'),
      uri: txt(grantee, 'URI'),
      email: txt(grantee, 'EmailAddress'),
      permission: txt(g, 'Permission') || '',
    };
  });
  const everyone = grants.filter((g) => g.uri === ALL_USERS);
  const has = (perms) => everyone.some((g) => perms.includes(g.permission));
  return {
    owner: owner ? { id: txt(owner, 'ID'), name: txt(owner, 'DisplayName') } : null,
    grants,
    publicRead: has(['READ', 'FULL_CONTROL']),
    publicWrite: has(['WRITE', 'FULL_CONTROL']),
  };
}

/** A human name for a grantee. */
export function granteeName(g) {
  if (g.uri === ALL_USERS) return 'Everyone (AllUsers)';
  if (g.uri === AUTHENTICATED_USERS) return 'Any authenticated user (AuthenticatedUsers)';
  if (g.uri) return g.uri;
  if (g.email) return g.email;
  return g.name ? `${g.name} (${g.id || ''})` : (g.id || '?');
}

// ------------------------------------------------------------------ public access block

export const PAB_FLAGS = [
  ['BlockPublicAcls', 'Block public ACLs'],
  ['IgnorePublicAcls', 'Ignore public ACLs'],
  ['BlockPublicPolicy', 'Block public bucket policies'],
  ['RestrictPublicBuckets', 'Restrict public buckets'],
];

export function parsePublicAccessBlock(doc) {
  const r = root(doc);
  const out = {};
  for (const [name] of PAB_FLAGS) out[name] = (txt(r, name) || '').toLowerCase() === 'true';
  return out;
}

export function buildPublicAccessBlock(flags) {
  return docx('PublicAccessBlockConfiguration',
    PAB_FLAGS.map(([name]) => elx(name, flags[name] ? 'true' : 'false')).join(''));
}

// ------------------------------------------------------------------ ownership

export const OWNERSHIP = [
  ['BucketOwnerEnforced', 'Bucket owner enforced (ACLs disabled)'],
  ['BucketOwnerPreferred', 'Bucket owner preferred'],
  ['ObjectWriter', 'Object writer'],
];

export function parseOwnership(doc) {
  return txt(kid(root(doc), 'Rule'), 'ObjectOwnership') || '';
}

export function buildOwnership(value) {
  return docx('OwnershipControls', `<Rule>${elx('ObjectOwnership', value)}</Rule>`);
}

// ------------------------------------------------------------------ CORS

export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

export function parseCors(doc) {
  return kids(root(doc), 'CORSRule').map((r) => ({
    id: txt(r, 'ID') || '',
    origins: kids(r, 'AllowedOrigin').map((n) => n.textContent.trim()),
    methods: kids(r, 'AllowedMethod').map((n) => n.textContent.trim()),
    headers: kids(r, 'AllowedHeader').map((n) => n.textContent.trim()),
    expose: kids(r, 'ExposeHeader').map((n) => n.textContent.trim()),
    maxAge: int(txt(r, 'MaxAgeSeconds')),
  }));
}

export function buildCorsRule(rule) {
  let inner = rule.id ? elx('ID', rule.id) : '';
  for (const m of rule.methods) inner += elx('AllowedMethod', m);
  for (const o of rule.origins) inner += elx('AllowedOrigin', o);
  for (const h of rule.headers) inner += elx('AllowedHeader', h);
  for (const h of rule.expose) inner += elx('ExposeHeader', h);
  if (rule.maxAge !== null && rule.maxAge !== undefined) inner += elx('MaxAgeSeconds', rule.maxAge);
  return `<CORSRule>${inner}</CORSRule>`;
}

export function buildCors(rules) {
  return docx('CORSConfiguration', rules.map(buildCorsRule).join(''));
}

// ------------------------------------------------------------------ versioning

export function parseVersioning(doc) {
  const r = root(doc);
  return { status: txt(r, 'Status') || '', mfaDelete: txt(r, 'MfaDelete') || '' };
}

export function buildVersioning(status) {
  return docx('VersioningConfiguration', elx('Status', status));
}

// ------------------------------------------------------------------ object lock

export function parseObjectLock(doc) {
  const r = root(doc);
  const ret = kid(kid(r, 'Rule'), 'DefaultRetention');
  const days = int(txt(ret, 'Days'));
  const years = int(txt(ret, 'Years'));
  return {
    enabled: txt(r, 'ObjectLockEnabled') === 'Enabled',
    mode: ret ? (txt(ret, 'Mode') || '') : '',
    period: days !== null ? days : years,
    unit: years !== null ? 'Years' : 'Days',
  };
}

export function buildObjectLock({ mode, period, unit }) {
  let inner = elx('ObjectLockEnabled', 'Enabled');
  if (mode) {
    inner += `<Rule><DefaultRetention>${elx('Mode', mode)}${elx(unit, period)}`
      + '</DefaultRetention></Rule>';
  }
  return docx('ObjectLockConfiguration', inner);
}

// ------------------------------------------------------------------ lifecycle

/** Rules as {id, status, prefix, expirationDays, expirationDate, noncurrentDays,
 *  abortDays, other: [names of other actions], xml: the rule as fetched}. */
export function parseLifecycle(doc) {
  return kids(root(doc), 'Rule').map((r) => {
    const filter = kid(r, 'Filter');
    let prefix = txt(r, 'Prefix');
    let filterText = '';
    if (filter) {
      const and = kid(filter, 'And');
      prefix = txt(filter, 'Prefix') ?? txt(and, 'Prefix');
      const parts = [];
      for (const t of [...kids(filter, 'Tag'), ...kids(and, 'Tag')]) {
        parts.push(`tag ${txt(t, 'Key')}=${txt(t, 'Value')}`);
      }
      for (const name of ['ObjectSizeGreaterThan', 'ObjectSizeLessThan']) {
        const v = txt(filter, name) ?? txt(and, name);
        if (v !== null) parts.push(`${name} ${v}`);
      }
      filterText = parts.join(', ');
    }
    const exp = kid(r, 'Expiration');
    const known = ['ID', 'Filter', 'Prefix', 'Status', 'Expiration',
      'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload'];
    return {
      id: txt(r, 'ID') || '',
      status: txt(r, 'Status') || '',
      prefix: prefix || '',
      filter: filterText,
      expirationDays: int(txt(exp, 'Days')),
      expirationDate: txt(exp, 'Date'),
      deleteMarkers: txt(exp, 'ExpiredObjectDeleteMarker') === 'true',
      noncurrentDays: int(txt(kid(r, 'NoncurrentVersionExpiration'), 'NoncurrentDays')),
      abortDays: int(txt(kid(r, 'AbortIncompleteMultipartUpload'), 'DaysAfterInitiation')),
      other: Array.from(r.children).map((c) => c.localName).filter((n) => !known.includes(n)),
      xml: serialize(r),
    };
  });
}

export function buildLifecycleRule(rule) {
  let inner = rule.id ? elx('ID', rule.id) : '';
  inner += `<Filter>${elx('Prefix', rule.prefix || '')}</Filter>`;
  inner += elx('Status', rule.status || 'Enabled');
  if (rule.expirationDays) inner += `<Expiration>${elx('Days', rule.expirationDays)}</Expiration>`;
  if (rule.noncurrentDays) {
    inner += '<NoncurrentVersionExpiration>'
      + `${elx('NoncurrentDays', rule.noncurrentDays)}</NoncurrentVersionExpiration>`;
  }
  if (rule.abortDays) {
    inner += '<AbortIncompleteMultipartUpload>'
      + `${elx('DaysAfterInitiation', rule.abortDays)}</AbortIncompleteMultipartUpload>`;
  }
  return `<Rule>${inner}</Rule>`;
}

/** A fetched rule's XML with its Status set to `status` (everything else kept). */
export function ruleWithStatus(ruleXml, status) {
  const doc = new DOMParser().parseFromString(ruleXml, 'application/xml');
  const node = kid(doc.documentElement, 'Status');
  if (node) node.textContent = status;
  return serialize(doc.documentElement);
}

/** A lifecycle document of rules given as XML text (fetched ones kept verbatim). */
export function buildLifecycle(ruleXmls) {
  return docx('LifecycleConfiguration', ruleXmls.join(''));
}

// ------------------------------------------------------------------ default encryption

export function parseEncryption(doc) {
  const rule = kid(root(doc), 'Rule');
  const by = kid(rule, 'ApplyServerSideEncryptionByDefault');
  return {
    algorithm: txt(by, 'SSEAlgorithm') || '',
    kmsKeyId: txt(by, 'KMSMasterKeyID') || '',
    bucketKey: txt(rule, 'BucketKeyEnabled') === 'true',
  };
}

export function buildEncryption({ algorithm, kmsKeyId, bucketKey }) {
  let by = elx('SSEAlgorithm', algorithm);
  if (algorithm === 'aws:kms' && kmsKeyId) by += elx('KMSMasterKeyID', kmsKeyId);
  let rule = `<ApplyServerSideEncryptionByDefault>${by}</ApplyServerSideEncryptionByDefault>`;
  if (algorithm === 'aws:kms' && bucketKey) rule += elx('BucketKeyEnabled', 'true');
  return docx('ServerSideEncryptionConfiguration', `<Rule>${rule}</Rule>`);
}

// ------------------------------------------------------------------ website

export function parseWebsite(doc) {
  const r = root(doc);
  const redirect = kid(r, 'RedirectAllRequestsTo');
  const rules = kid(r, 'RoutingRules');
  return {
    index: txt(kid(r, 'IndexDocument'), 'Suffix') || '',
    error: txt(kid(r, 'ErrorDocument'), 'Key') || '',
    redirectHost: redirect ? (txt(redirect, 'HostName') || '') : '',
    routingRules: rules ? kids(rules, 'RoutingRule').length : 0,
    routingXml: rules ? serialize(rules) : '',
  };
}

export function buildWebsite({ index, error, routingXml }) {
  let inner = `<IndexDocument>${elx('Suffix', index)}</IndexDocument>`;
  if (error) inner += `<ErrorDocument>${elx('Key', error)}</ErrorDocument>`;
  if (routingXml) inner += routingXml;
  return docx('WebsiteConfiguration', inner);
}

// ------------------------------------------------------------------ logging

/** {bucket, prefix, extraXml (TargetGrants / TargetObjectKeyFormat as fetched)} or null. */
export function parseLogging(doc) {
  const on = kid(root(doc), 'LoggingEnabled');
  if (!on) return null;
  const extra = Array.from(on.children).filter((c) => !['TargetBucket', 'TargetPrefix']
    .includes(c.localName));
  return { bucket: txt(on, 'TargetBucket') || '', prefix: txt(on, 'TargetPrefix') || '',
    extraXml: extra.map(serialize).join('') };
}

export function buildLogging(target) {
  if (!target) return docx('BucketLoggingStatus', '');
  return docx('BucketLoggingStatus', '<LoggingEnabled>'
    + `${elx('TargetBucket', target.bucket)}${elx('TargetPrefix', target.prefix)}`
    + `${target.extraXml || ''}</LoggingEnabled>`);
}

// ------------------------------------------------------------------ tags

export function parseTags(doc) {
  return kids(kid(root(doc), 'TagSet'), 'Tag').map((t) => ({
    key: txt(t, 'Key') || '', value: kid(t, 'Value') ? kid(t, 'Value').textContent : '',
  }));
}

export function buildTags(tags) {
  return docx('Tagging', `<TagSet>${tags.map((t) =>
    `<Tag>${elx('Key', t.key)}${elx('Value', t.value)}</Tag>`).join('')}</TagSet>`);
}

// ------------------------------------------------------------------ checks

/** A JSON document's parse error as a sentence, or null when it parses to an object. */
export function jsonProblem(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `Not valid JSON: ${err.message}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'A policy must be a JSON object ({ ... }).';
  }
  if (!('Statement' in value)) return 'The policy has no "Statement".';
  return null;
}

/** The lines of a textarea / comma list, trimmed, empty ones dropped. */
export function splitList(text) {
  return String(text).split(/[\n,]/).map((s) => s.trim()).filter((s) => s !== '');
}

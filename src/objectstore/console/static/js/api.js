// The console's only way to the server: every call is an ordinary, SigV4-signed request to
// the S3 API, the admin API (/_admin) or the images API (/_images) on the S3 origin.
//
// Paths given to s3(), admin() and images() are RAW (not percent-encoded): api encodes each
// '/'-separated segment itself. `query` is an object {name: value}; a value of '' sends the
// bare name (e.g. {versioning: ''} → ?versioning), undefined/null values are left out.
//
// Session credentials live in sessionStorage only (they die with the tab); the long-term
// secret typed at sign-in is used once for GetSessionToken and not kept anywhere.

import { signRequest, presignUrl, sha256, uriEncode, UNSIGNED } from './sigv4.js';

const STORE = 'objectstore.console.session';
const MiB = 1024 * 1024;
export const SINGLE_PUT_LIMIT = 16 * MiB;
const STATUS_CODES = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound',
  405: 'MethodNotAllowed', 409: 'Conflict', 412: 'PreconditionFailed', 416: 'InvalidRange',
  500: 'InternalError', 501: 'NotImplemented', 503: 'ServiceUnavailable',
};

/** An error answer of the server (S3 / STS XML, or JSON {"error": {code, message}}), or a
 * network failure (code NetworkError) or cancellation (code Aborted). */
export class ApiError extends Error {
  constructor(code, message, status = 0, requestId = '') {
    super(message || code);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

/** The text of the first descendant element named `tag` (local name), or ''. */
export function xmlText(node, tag) {
  if (!node) return '';
  const found = node.getElementsByTagName(tag);
  return found.length ? found[0].textContent : '';
}

/** All descendant elements named `tag`, as an array. */
export function xmlAll(node, tag) {
  return node ? Array.from(node.getElementsByTagName(tag)) : [];
}

/** The direct children of `node` named `tag`. */
export function xmlChildren(node, tag) {
  return node ? Array.from(node.children).filter((c) => c.localName === tag) : [];
}

/** Escapes text for an XML document built as a string. */
export function xmlEscape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function parseXml(text) {
  if (!text || !text.trimStart().startsWith('<')) return null;
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  return doc.getElementsByTagName('parsererror').length ? null : doc;
}

/** The ApiError an error answer describes. */
export function errorFrom(status, text, headers) {
  const requestId = (headers && headers.get && headers.get('x-amz-request-id')) || '';
  const doc = parseXml(text);
  if (doc) {
    const code = xmlText(doc, 'Code');
    if (code) {
      return new ApiError(code, xmlText(doc, 'Message') || code, status,
        xmlText(doc, 'RequestId') || requestId);
    }
  }
  if (text && text.trimStart().startsWith('{')) {
    try {
      const j = JSON.parse(text);
      const e = j.error || j.Error || j;
      if (e && (e.code || e.Code)) {
        return new ApiError(e.code || e.Code, e.message || e.Message || '', status,
          e.requestId || requestId);
      }
    } catch { /* not JSON after all */ }
  }
  const code = STATUS_CODES[status] || `HTTP${status}`;
  return new ApiError(code, `${code} (HTTP ${status})`, status, requestId);
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

// A "." or ".." path segment (also percent-encoded) is rewritten by every browser's URL parser
// before the request leaves: the request would go to another path, signed. Such keys are
// refused here (DeleteObjects, whose keys travel in its XML body, can still remove them).
function encodePath(path) {
  const segments = String(path).split('/');
  if (segments.some((seg) => seg === '.' || seg === '..')) {
    throw new ApiError('UnsupportedKeyName', 'A name with a "." or ".." path segment cannot be '
      + 'reached from a browser, which rewrites such addresses; use an SDK or the CLI for it '
      + '(selecting it and deleting it works).', 0, '');
  }
  return segments.map((seg) => uriEncode(seg)).join('/');
}

function queryString(query) {
  if (!query) return '';
  const parts = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    parts.push(v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`);
  }
  return parts.length ? '?' + parts.join('&') : '';
}

function loadSession() {
  try {
    const raw = sessionStorage.getItem(STORE);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function saveSession(s) {
  if (s) sessionStorage.setItem(STORE, JSON.stringify(s));
  else sessionStorage.removeItem(STORE);
}

function expired() {
  window.dispatchEvent(new CustomEvent('objectstore:session-expired'));
}

/** Sends one request with XMLHttpRequest (upload progress); resolves {status, headers, text}
 * or {status, headers, blob}; rejects ApiError('Aborted') when the signal fires. */
function xhrSend({ method, url, headers, body, onProgress, signal, blob }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    if (blob) xhr.responseType = 'blob';
    const onAbort = () => xhr.abort();
    if (signal) {
      if (signal.aborted) {
        reject(new ApiError('Aborted', 'Cancelled'));
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const done = () => signal && signal.removeEventListener('abort', onAbort);
    if (onProgress) {
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    }
    xhr.onload = async () => {
      done();
      const hdrs = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const i = line.indexOf(':');
        if (i > 0) hdrs.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      if (blob) {
        const b = xhr.response;
        const text = xhr.status >= 300 && b ? await b.text() : '';
        resolve({ status: xhr.status, headers: hdrs, blob: b, text });
      } else {
        resolve({ status: xhr.status, headers: hdrs, text: xhr.responseText });
      }
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError('NetworkError', `Could not reach the server (${method} failed)`));
    };
    xhr.onabort = () => {
      done();
      reject(new ApiError('Aborted', 'Cancelled'));
    };
    xhr.send(body === undefined ? null : body);
  });
}

function createApi() {
  let config = { endpoint: location.origin, region: 'us-east-1', sessionSeconds: 3600,
    maxSessionSeconds: 43200 };

  function creds() {
    const s = loadSession();
    if (!s) throw new ApiError('NotSignedIn', 'You are not signed in.', 0);
    if (s.expiration && Date.parse(s.expiration) <= Date.now()) {
      saveSession(null);
      expired();
      throw new ApiError('ExpiredToken', 'The session has expired; please sign in again.', 400);
    }
    return s;
  }

  function base() {
    return config.endpoint.replace(/\/+$/, '');
  }

  /** Signs and sends; returns the raw answer (any status). */
  async function send(method, url, { headers = {}, body, onProgress, signal, raw, credentials,
    service = 's3' } = {}) {
    const c = credentials || creds();
    const hashable = typeof body === 'string' || body instanceof Uint8Array;
    const signed = signRequest({ method, url, headers, body: hashable ? body : (
      body === undefined || body === null ? undefined : UNSIGNED), creds: c,
    region: config.region, service });
    const all = { ...headers, ...signed };
    delete all.host;
    let answer;
    if (onProgress) {
      answer = await xhrSend({ method, url, headers: all, body, onProgress, signal, blob: raw });
    } else {
      let res;
      try {
        res = await fetch(url, { method, headers: all, body, signal, credentials: 'omit',
          cache: 'no-store', referrerPolicy: 'no-referrer', mode: 'cors' });
      } catch (e) {
        if (e && e.name === 'AbortError') throw new ApiError('Aborted', 'Cancelled');
        throw new ApiError('NetworkError',
          `Could not reach the server at ${config.endpoint} (${method} failed)`);
      }
      if (raw && res.status < 300) {
        answer = { status: res.status, headers: res.headers, blob: await res.blob(), text: '' };
      } else {
        answer = { status: res.status, headers: res.headers, text: await res.text() };
      }
    }
    if (answer.status >= 300 && answer.status !== 304) {
      const err = errorFrom(answer.status, answer.text, answer.headers);
      if (!credentials && (err.code === 'ExpiredToken' || err.code === 'InvalidToken')) expired();
      throw err;
    }
    return answer;
  }

  const api = {
    /** Takes /config.json's answer: {endpoint, region, version, sessionSeconds, ...}. */
    configure(cfg) {
      config = { ...config, ...cfg };
    },
    config() {
      return { ...config };
    },

    /** Exchanges a long-term key for session credentials (STS GetSessionToken); stores them
     * in sessionStorage. Returns the session. */
    async signIn(accessKey, secret, seconds) {
      const duration = Math.round(seconds || config.sessionSeconds || 3600);
      const body = `Action=GetSessionToken&Version=2011-06-15&DurationSeconds=${duration}`;
      const answer = await send('POST', base() + '/', {
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body, credentials: { accessKeyId: accessKey.trim(), secretAccessKey: secret },
        service: 'sts',
      });
      const doc = parseXml(answer.text);
      const session = {
        accessKeyId: xmlText(doc, 'AccessKeyId'),
        secretAccessKey: xmlText(doc, 'SecretAccessKey'),
        sessionToken: xmlText(doc, 'SessionToken'),
        expiration: xmlText(doc, 'Expiration'),
        sourceKey: accessKey.trim(),
      };
      if (!session.accessKeyId || !session.secretAccessKey || !session.sessionToken) {
        throw new ApiError('InvalidResponse', 'The server answered GetSessionToken without '
          + 'credentials.', answer.status);
      }
      saveSession(session);
      try {
        session.whoami = await api.admin('GET', '/whoami');
        saveSession(session);
      } catch { /* the admin API may be absent: pages cope without whoami */ }
      return session;
    },

    /** Revokes the session on the server (DELETE /_admin/session), then forgets it. */
    async signOut() {
      const s = loadSession();
      saveSession(null);
      if (!s) return;
      try {
        await send('DELETE', base() + '/_admin/session', { credentials: s });
      } catch { /* revoked or expired already: nothing more to do */ }
    },

    /** The current session {accessKeyId, secretAccessKey, sessionToken, expiration, whoami}
     * or null (none, or expired). */
    session() {
      const s = loadSession();
      if (!s) return null;
      if (s.expiration && Date.parse(s.expiration) <= Date.now()) {
        saveSession(null);
        return null;
      }
      return s;
    },

    /** Seconds the session has left (Infinity when it has no expiration). */
    sessionRemaining() {
      const s = loadSession();
      if (!s) return 0;
      if (!s.expiration) return Infinity;
      return Math.max(0, Math.floor((Date.parse(s.expiration) - Date.now()) / 1000));
    },

    /** The caller per GET /_admin/whoami (cached in the session), or null. */
    async whoami(refresh = false) {
      const s = api.session();
      if (!s) return null;
      if (s.whoami && !refresh) return s.whoami;
      try {
        s.whoami = await api.admin('GET', '/whoami');
        saveSession(s);
        return s.whoami;
      } catch {
        return null;
      }
    },

    /** An S3 request. `path` raw, e.g. '/' + bucket + '/' + key. Small string/bytes bodies
     * are signed by hash (and carry x-amz-checksum-sha256 on subresource writes, which S3
     * requires for DeleteObjects, retention, legal hold...); Blobs go UNSIGNED-PAYLOAD.
     * Resolves {status, headers, text, xml} ({status, headers, blob} with raw). */
    async s3(method, path, { query, headers = {}, body, raw, onProgress, signal } = {}) {
      const url = base() + encodePath(path.startsWith('/') ? path : '/' + path)
        + queryString(query);
      const h = { ...headers };
      const small = typeof body === 'string' || body instanceof Uint8Array;
      if (small && (method === 'POST' || method === 'PUT') && query
        && Object.keys(query).length && !('partNumber' in query)
        && !Object.keys(h).some((k) => k.toLowerCase().startsWith('x-amz-checksum-'))) {
        h['x-amz-checksum-sha256'] = base64(sha256(body));
      }
      const answer = await send(method, url, { headers: h, body, onProgress, signal, raw });
      if (!raw) answer.xml = parseXml(answer.text);
      return answer;
    },

    /** An admin API call: admin('GET', '/users') → parsed JSON (null for no content).
     * `path` is relative to /_admin (raw; a '?query' part is passed through as is). */
    async admin(method, path, json) {
      let p = String(path || '');
      let q = '';
      const i = p.indexOf('?');
      if (i >= 0) {
        q = p.slice(i);
        p = p.slice(0, i);
      }
      if (p.startsWith('/_admin')) p = p.slice('/_admin'.length);
      if (p && !p.startsWith('/')) p = '/' + p;
      const url = base() + '/_admin' + encodePath(p) + q;
      const opts = {};
      if (json !== undefined) {
        opts.body = JSON.stringify(json);
        opts.headers = { 'content-type': 'application/json' };
      }
      const answer = await send(method, url, opts);
      if (answer.status === 204 || !answer.text) return null;
      try {
        return JSON.parse(answer.text);
      } catch {
        throw new ApiError('InvalidResponse', `The admin API answered ${method} ${p} with `
          + 'something that is not JSON.', answer.status,
        answer.headers.get('x-amz-request-id') || '');
      }
    },

    /** The images API: images('GET', '') → list; images('POST', '', {image_id, operation}). */
    async images(method, path, query) {
      const p = path ? (String(path).startsWith('/') ? path : '/' + path) : '';
      const url = base() + '/_images' + encodePath(p) + queryString(query);
      const answer = await send(method, url, {});
      if (answer.status === 204 || !answer.text) return null;
      try {
        return JSON.parse(answer.text);
      } catch {
        return answer.text;
      }
    },

    /** A presigned URL for any path of the S3 origin (raw path). `credentials` overrides
     * the session's (a long-term key typed in for a long-lived share link). */
    presignPath(method, path, seconds, query, credentials) {
      const url = base() + encodePath(path.startsWith('/') ? path : '/' + path)
        + queryString(query);
      return presignUrl({ method, url, creds: credentials || creds(), region: config.region,
        expiresSeconds: seconds });
    },

    /** A presigned URL for an object (e.g. {'response-content-disposition': 'attachment'}). */
    presign(method, bucket, key, seconds, query, credentials) {
      return api.presignPath(method, `/${bucket}/${key}`, seconds, query, credentials);
    },

    /** Uploads a File/Blob: one PUT up to 16 MiB, else multipart with `parallel` parts in
     * flight. onProgress(loadedBytes, totalBytes). Aborting the signal cancels (and aborts
     * the multipart upload). Resolves {etag, versionId}. */
    async upload(bucket, key, file, { onProgress, signal, partSize, parallel = 4,
      contentType, singleLimit = SINGLE_PUT_LIMIT } = {}) {
      const total = file.size;
      const type = contentType || file.type || 'application/octet-stream';
      const path = `/${bucket}/${key}`;
      const report = (n) => onProgress && onProgress(Math.min(n, total), total);
      if (total <= singleLimit) {
        const a = await api.s3('PUT', path, { body: file, headers: { 'content-type': type },
          onProgress: (loaded) => report(loaded), signal });
        report(total);
        return { etag: a.headers.get('etag'), versionId: a.headers.get('x-amz-version-id') };
      }
      const size = Math.max(partSize || 8 * MiB, Math.ceil(total / 10000), 5 * MiB);
      const init = await api.s3('POST', path, { query: { uploads: '' },
        headers: { 'content-type': type }, signal });
      const uploadId = xmlText(init.xml, 'UploadId');
      if (!uploadId) throw new ApiError('InvalidResponse', 'No UploadId in the answer.');
      const count = Math.ceil(total / size);
      const loaded = new Array(count).fill(0);
      const etags = new Array(count);
      const inner = new AbortController();
      const onOuter = () => inner.abort();
      if (signal) signal.addEventListener('abort', onOuter, { once: true });
      let next = 0;
      const sum = () => loaded.reduce((a, b) => a + b, 0);
      async function worker() {
        while (next < count && !inner.signal.aborted) {
          const i = next++;
          const blob = file.slice(i * size, Math.min(total, (i + 1) * size));
          for (let attempt = 0; ; attempt++) {
            try {
              const a = await api.s3('PUT', path, {
                query: { partNumber: String(i + 1), uploadId }, body: blob,
                signal: inner.signal,
                onProgress: (n) => {
                  loaded[i] = n;
                  report(sum());
                },
              });
              etags[i] = a.headers.get('etag');
              loaded[i] = blob.size;
              report(sum());
              break;
            } catch (e) {
              loaded[i] = 0;
              if (inner.signal.aborted || attempt >= 2 || (e.status >= 400 && e.status < 500)) {
                throw e;
              }
            }
          }
        }
      }
      try {
        await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
        if (inner.signal.aborted) throw new ApiError('Aborted', 'Cancelled');
        const xml = '<CompleteMultipartUpload>' + etags.map((e, i) =>
          `<Part><PartNumber>${i + 1}</PartNumber><ETag>${xmlEscape(e || '')}</ETag></Part>`)
          .join('') + '</CompleteMultipartUpload>';
        const done = await api.s3('POST', path, { query: { uploadId }, body: xml,
          headers: { 'content-type': 'application/xml' } });
        if (done.xml && done.xml.documentElement.localName === 'Error') {
          throw errorFrom(500, done.text, done.headers);
        }
        report(total);
        return { etag: xmlText(done.xml, 'ETag'),
          versionId: done.headers.get('x-amz-version-id') };
      } catch (e) {
        inner.abort();
        try {
          await api.s3('DELETE', path, { query: { uploadId } });
        } catch { /* best effort: the lifecycle rule / admin may clean it up later */ }
        throw e;
      } finally {
        if (signal) signal.removeEventListener('abort', onOuter);
      }
    },
  };
  return api;
}

export const api = createApi();

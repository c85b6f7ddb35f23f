// AWS Signature Version 4 for the browser, with no dependency on crypto.subtle: the console
// is often reached over plain HTTP on a LAN, which is not a secure context, so SHA-256 and
// HMAC are implemented here in plain JavaScript (FIPS 180-4, RFC 2104). The payloads we hash
// are small (JSON, XML, forms); uploads are sent with UNSIGNED-PAYLOAD.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const encoder = new TextEncoder();

/** UTF-8 bytes of a string; a Uint8Array or ArrayBuffer is returned as bytes. */
export function toBytes(data) {
  if (data === undefined || data === null) return new Uint8Array(0);
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('sigv4: cannot hash this body type');
}

/** SHA-256 digest of bytes or a string (UTF-8) as a Uint8Array of 32 bytes. */
export function sha256(data) {
  const msg = toBytes(data);
  const len = msg.length;
  const total = ((len + 9 + 63) >> 6) << 6;
  const buf = new Uint8Array(total);
  buf.set(msg);
  buf[len] = 0x80;
  const view = new DataView(buf.buffer);
  const bits = len * 8;
  view.setUint32(total - 8, Math.floor(bits / 0x100000000));
  view.setUint32(total - 4, bits >>> 0);
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15];
      const b = w[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0;
      d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(i * 4, h[i]);
  return out;
}

/** Lower-case hex of bytes. */
export function hex(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}

/** Hex SHA-256 of bytes or a string (UTF-8). */
export function sha256Hex(data) {
  return hex(sha256(data));
}

/** HMAC-SHA256(key, msg) as bytes; key and msg may be strings (UTF-8) or bytes. */
export function hmac(key, msg) {
  let k = toBytes(key);
  if (k.length > 64) k = sha256(k);
  const block = new Uint8Array(64);
  block.set(k);
  const inner = new Uint8Array(64);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  const m = toBytes(msg);
  const ib = new Uint8Array(64 + m.length);
  ib.set(inner);
  ib.set(m, 64);
  outer.set(sha256(ib), 64);
  return sha256(outer);
}

export const UNSIGNED = 'UNSIGNED-PAYLOAD';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX (UTF-8);
 * '/' is kept when keepSlash (object key paths). */
export function uriEncode(str, keepSlash = false) {
  let out = '';
  for (const byte of encoder.encode(String(str))) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function decodeComponent(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The query of a URL as [name, value] pairs, decoded ('+' stays '+', as S3 reads it). */
function queryPairs(search) {
  const q = search.startsWith('?') ? search.slice(1) : search;
  if (!q) return [];
  return q.split('&').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [decodeComponent(p), ''] : [decodeComponent(p.slice(0, i)),
      decodeComponent(p.slice(i + 1))];
  });
}

function canonicalQuery(pairs) {
  return pairs.map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

/** The canonical URI: the URL's path as sent (already encoded), each segment normalised to the
 * SigV4 encoding so that what we sign is exactly what the server decodes and re-encodes. */
function canonicalPath(pathname) {
  if (!pathname) return '/';
  return pathname.split('/').map((seg) => uriEncode(decodeComponent(seg))).join('/');
}

function amzDate(now) {
  const d = now instanceof Date ? now : new Date(now === undefined ? Date.now() : now);
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function signingKey(secret, date, region, service) {
  const kDate = hmac('AWS4' + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/**
 * Signs a request with an Authorization header. Returns the headers to add (lower-case names):
 * x-amz-date, x-amz-content-sha256, x-amz-security-token (with session credentials) and
 * authorization. `headers` are the request's own headers; all of them are signed (with host),
 * so pass only headers the browser sends unchanged (content-type, x-amz-*, range…).
 * `body`: string | bytes | UNSIGNED (the default for anything else, e.g. a Blob).
 */
export function signRequest({ method, url, headers = {}, body, creds, region = 'us-east-1',
  service = 's3', now }) {
  const u = new URL(url);
  const stamp = amzDate(now);
  const date = stamp.slice(0, 8);
  let payload;
  if (body === UNSIGNED) payload = UNSIGNED;
  else if (body === undefined || body === null) payload = EMPTY_SHA256;
  else if (typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer
    || ArrayBuffer.isView(body)) payload = sha256Hex(body);
  else payload = UNSIGNED;
  const add = { 'x-amz-date': stamp, 'x-amz-content-sha256': payload };
  if (creds.sessionToken) add['x-amz-security-token'] = creds.sessionToken;
  const all = new Map();
  all.set('host', u.host);
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || v === null) continue;
    all.set(k.toLowerCase(), String(v).trim().replace(/\s+/g, ' '));
  }
  for (const [k, v] of Object.entries(add)) all.set(k, v);
  const names = [...all.keys()].sort();
  const canonicalHeaders = names.map((n) => `${n}:${all.get(n)}\n`).join('');
  const signed = names.join(';');
  const canonical = [method.toUpperCase(), canonicalPath(u.pathname),
    canonicalQuery(queryPairs(u.search)), canonicalHeaders, signed, payload].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256Hex(canonical)].join('\n');
  const sig = hex(hmac(signingKey(creds.secretAccessKey, date, region, service), toSign));
  add.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, `
    + `SignedHeaders=${signed}, Signature=${sig}`;
  return add;
}

/**
 * A presigned URL (query-string authentication, UNSIGNED-PAYLOAD, only host signed). With
 * session credentials X-Amz-Security-Token is part of the signed query, as AWS does it.
 */
export function presignUrl({ method, url, creds, region = 'us-east-1', expiresSeconds = 3600,
  now, service = 's3' }) {
  const u = new URL(url);
  const stamp = amzDate(now);
  const date = stamp.slice(0, 8);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const pairs = queryPairs(u.search);
  pairs.push(['X-Amz-Algorithm', 'AWS4-HMAC-SHA256']);
  pairs.push(['X-Amz-Credential', `${creds.accessKeyId}/${scope}`]);
  pairs.push(['X-Amz-Date', stamp]);
  pairs.push(['X-Amz-Expires', String(Math.max(1, Math.floor(expiresSeconds)))]);
  if (creds.sessionToken) pairs.push(['X-Amz-Security-Token', creds.sessionToken]);
  pairs.push(['X-Amz-SignedHeaders', 'host']);
  const query = canonicalQuery(pairs);
  const canonical = [method.toUpperCase(), canonicalPath(u.pathname), query,
    `host:${u.host}\n`, 'host', UNSIGNED].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256Hex(canonical)].join('\n');
  const sig = hex(hmac(signingKey(creds.secretAccessKey, date, region, service), toSign));
  return `${u.origin}${canonicalPath(u.pathname)}?${query}&X-Amz-Signature=${sig}`;
}

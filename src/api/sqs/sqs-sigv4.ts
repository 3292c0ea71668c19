/**
 * AWS Signature Version 4 verification of SQS requests (Authorization
 * header or presigned query string), with node:crypto only. The region and
 * service of the credential scope are taken as the client gives them (they
 * only enter the signing key); the access key must be known and the
 * signature must match the request as received.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { SqsError } from './sqs-errors.js';
import { pathOnly, queryStringOf } from './sqs-form.js';
import { headerOf, type SqsHttpRequest } from './sqs-request.js';

/** A key pair requests may be signed with. */
export interface SqsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 5 * 60 * 1000;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** What a request claims about its signature. */
interface SignatureClaim {
  readonly accessKeyId: string;
  /** `date/region/service/aws4_request`. */
  readonly scope: string;
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  /** Seconds a presigned request stays valid; undefined for the header form. */
  readonly expiresSec: number | undefined;
}

/**
 * Verifies the SigV4 signature of `req` against `credentials` (by access
 * key id) at time `nowMs`, returning the access key that signed it. Throws
 * SqsError MissingAuthenticationToken (no signature at all),
 * IncompleteSignature (malformed Authorization / X-Amz-* parameters),
 * InvalidClientTokenId (unknown access key), RequestExpired (X-Amz-Date more
 * than 5 minutes off, or a presigned request past its X-Amz-Expires) or
 * SignatureDoesNotMatch.
 */
export function verifySigV4(
  req: SqsHttpRequest,
  credentials: ReadonlyMap<string, SqsCredentials>,
  nowMs: number,
): { accessKeyId: string } {
  const query = rawQueryPairs(queryStringOf(req.path));
  const claim = claimOf(req, query);
  const key = credentials.get(claim.accessKeyId);
  if (key === undefined) {
    throw new SqsError('InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  checkTime(claim, nowMs);
  const hashes = payloadHashes(req, claim);
  const signingKey = signingKeyOf(key.secretAccessKey, claim);
  const wanted = Buffer.from(claim.signature, 'hex');
  const headers = canonicalHeaders(req, claim.signedHeaders);
  const queryString = canonicalQuery(query, claim.expiresSec !== undefined);
  for (const uri of canonicalUris(pathOnly(req.path))) {
    for (const payloadHash of hashes) {
      const canonical = [req.method.toUpperCase(), uri, queryString, headers, claim.signedHeaders.join(';'), payloadHash].join('\n');
      const toSign = [ALGORITHM, claim.amzDate, claim.scope, sha256Hex(canonical)].join('\n');
      const got = createHmac('sha256', signingKey).update(toSign, 'utf8').digest();
      if (got.length === wanted.length && timingSafeEqual(got, wanted)) return { accessKeyId: key.accessKeyId };
    }
  }
  throw new SqsError(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
  );
}

function incomplete(message: string): SqsError {
  return new SqsError('IncompleteSignature', message);
}

function claimOf(req: SqsHttpRequest, query: ReadonlyArray<readonly [string, string]>): SignatureClaim {
  const authorization = headerOf(req.headers, 'authorization');
  if (authorization !== undefined) {
    const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(authorization.trim());
    if (m === null) throw incomplete(`Authorization header requires the ${ALGORITHM} algorithm.`);
    const parts = new Map<string, string>();
    for (const part of (m[1] ?? '').split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const amzDate = headerOf(req.headers, 'x-amz-date') ?? dateHeaderAsAmz(headerOf(req.headers, 'date'));
    return buildClaim(parts.get('Credential'), parts.get('SignedHeaders'), parts.get('Signature'), amzDate, undefined);
  }
  const params = new Map(query.map(([k, v]) => [safeDecode(k), safeDecode(v)] as const));
  if (!params.has('X-Amz-Signature')) {
    throw new SqsError('MissingAuthenticationToken', 'Request is missing Authentication Token');
  }
  if (params.get('X-Amz-Algorithm') !== ALGORITHM) throw incomplete(`X-Amz-Algorithm must be ${ALGORITHM}.`);
  const expires = params.get('X-Amz-Expires');
  const expiresSec = expires !== undefined && /^[0-9]{1,6}$/.test(expires) ? Number(expires) : undefined;
  if (expiresSec === undefined) throw incomplete('X-Amz-Expires must be a number of seconds.');
  return buildClaim(
    params.get('X-Amz-Credential'),
    params.get('X-Amz-SignedHeaders'),
    params.get('X-Amz-Signature'),
    params.get('X-Amz-Date'),
    expiresSec,
  );
}

function buildClaim(
  credential: string | undefined,
  signedHeaders: string | undefined,
  signature: string | undefined,
  amzDate: string | undefined,
  expiresSec: number | undefined,
): SignatureClaim {
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw incomplete('Authorization must contain Credential, SignedHeaders and Signature.');
  }
  const c = /^([^/]+)\/([0-9]{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(credential);
  if (c === null) throw incomplete('Credential must be <key>/<date>/<region>/<service>/aws4_request.');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete('Signature must be 64 lower-case hex digits.');
  const headers = signedHeaders.split(';');
  if (headers.some((h) => h.length === 0 || h !== h.toLowerCase()) || !headers.includes('host')) {
    throw incomplete('SignedHeaders must be lower-case names separated by ; and include host.');
  }
  if (amzDate === undefined || !/^[0-9]{8}T[0-9]{6}Z$/.test(amzDate)) {
    throw incomplete('The request must carry X-Amz-Date as yyyyMMddTHHmmssZ.');
  }
  const [, accessKeyId = '', scopeDate = '', region = '', service = ''] = c;
  if (!amzDate.startsWith(scopeDate)) throw new SqsError('SignatureDoesNotMatch', 'Credential scope date does not match X-Amz-Date.');
  return {
    accessKeyId,
    scope: `${scopeDate}/${region}/${service}/aws4_request`,
    scopeDate,
    region,
    service,
    signedHeaders: headers,
    signature,
    amzDate,
    expiresSec,
  };
}

/** An RFC 1123 Date header as yyyyMMddTHHmmssZ (SigV4 allows Date instead of X-Amz-Date). */
function dateHeaderAsAmz(date: string | undefined): string | undefined {
  if (date === undefined) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.[0-9]{3}/, '');
}

function amzDateMs(amzDate: string): number {
  const iso = `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw incomplete(`Invalid X-Amz-Date ${amzDate}.`);
  return ms;
}

function checkTime(claim: SignatureClaim, nowMs: number): void {
  const signedAt = amzDateMs(claim.amzDate);
  const late = claim.expiresSec === undefined ? nowMs - signedAt > MAX_SKEW_MS : nowMs > signedAt + claim.expiresSec * 1000;
  if (late || signedAt - nowMs > MAX_SKEW_MS) {
    throw new SqsError('RequestExpired', `Request has expired: signed at ${claim.amzDate}.`);
  }
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The payload hashes to try: the one the client declared (checked) or the body's. */
function payloadHashes(req: SqsHttpRequest, claim: SignatureClaim): string[] {
  const bodyHash = sha256Hex(req.body);
  const declared = headerOf(req.headers, 'x-amz-content-sha256');
  if (declared === UNSIGNED_PAYLOAD) return [UNSIGNED_PAYLOAD];
  if (declared !== undefined) {
    if (declared.toLowerCase() !== bodyHash) {
      throw new SqsError('SignatureDoesNotMatch', 'The x-amz-content-sha256 header does not match the body.');
    }
    return [bodyHash];
  }
  return claim.expiresSec === undefined ? [bodyHash] : [bodyHash, UNSIGNED_PAYLOAD];
}

function signingKeyOf(secret: string, claim: SignatureClaim): Buffer {
  let key = createHmac('sha256', `AWS4${secret}`).update(claim.scopeDate, 'utf8').digest();
  for (const part of [claim.region, claim.service, 'aws4_request']) {
    key = createHmac('sha256', key).update(part, 'utf8').digest();
  }
  return key;
}

/** RFC 3986 encoding as SigV4 wants it: only A-Z a-z 0-9 - _ . ~ stay. */
function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new SqsError('MalformedQueryString', 'Malformed percent-encoding in the query string.');
  }
}

function rawQueryPairs(qs: string): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  for (const pair of qs.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    pairs.push(eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  return pairs;
}

function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>, presigned: boolean): string {
  const encoded = pairs
    .map(([k, v]) => [uriEscape(safeDecode(k)), uriEscape(safeDecode(v))] as const)
    .filter(([k]) => !(presigned && k === 'X-Amz-Signature'));
  encoded.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return encoded.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * Canonical URIs to try: the normalised path escaped once more (what the
 * AWS SDKs and botocore sign for every service but S3), then as received.
 */
function canonicalUris(path: string): string[] {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment.length === 0 || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  const normalised = `/${segments.join('/')}${trailing}`;
  const doubled = uriEscape(normalised).replace(/%2F/g, '/');
  return doubled === path ? [doubled] : [doubled, path.length === 0 ? '/' : path];
}

function canonicalHeaders(req: SqsHttpRequest, signed: readonly string[]): string {
  return signed
    .map((name) => {
      const raw = req.headers[name] ?? headerOf(req.headers, name);
      if (raw === undefined) throw new SqsError('SignatureDoesNotMatch', `Signed header ${name} is missing from the request.`);
      const values = Array.isArray(raw) ? raw : [raw];
      return `${name}:${values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`;
    })
    .join('');
}

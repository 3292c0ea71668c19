/**
 * A minimal X.509 v3 certificate writer (DER by hand, signatures by node:crypto) for the
 * development certificates of `raftq certs`: ECDSA P-256 keys, SHA-256 signatures, and the
 * few extensions TLS needs (basic constraints, key usage, extended key usage, subject
 * alternative names, key identifiers). Node 20 can make keys but not certificates, and this
 * avoids a dependency for ~150 lines; production users bring certificates of their own.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/** One subject alternative name. */
export type SubjectAltName = { readonly dns: string } | { readonly ip: string } | { readonly uri: string };

/** What goes into one certificate. */
export interface CertificateSpec {
  /** Subject common name. */
  readonly commonName: string;
  /** Subject organizational unit (raftq puts the cluster id here too), if any. */
  readonly organizationalUnit?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** True for a CA certificate (may sign others), false for a TLS server/client leaf. */
  readonly isCa: boolean;
  readonly altNames: readonly SubjectAltName[];
  /** The subject's public key. */
  readonly publicKey: KeyObject;
}

/** The issuer: its name and key pair (for a self-signed CA, the CA's own). */
export interface Issuer {
  readonly commonName: string;
  readonly organizationalUnit?: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A new ECDSA P-256 key pair. */
export function newKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** Writes and signs a certificate; returns it as PEM. A self-signed CA is its own issuer. */
export function createCertificate(spec: CertificateSpec, signer: Issuer): string {
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  const extensions: Buffer[] = [
    extension('2.5.29.19', true, seq(...(spec.isCa ? [tlv(0x01, Buffer.from([0xff]))] : []))),
    // digitalSignature (bit 0) for a leaf; plus keyCertSign (5) and cRLSign (6) for a CA.
    extension('2.5.29.15', true, spec.isCa ? tlv(0x03, Buffer.from([1, 0x86])) : tlv(0x03, Buffer.from([7, 0x80]))),
    extension('2.5.29.14', false, tlv(0x04, keyId(spec.publicKey))),
    extension('2.5.29.35', false, seq(tlv(0x80, keyId(signer.publicKey)))),
  ];
  if (!spec.isCa) extensions.push(extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))));
  if (spec.altNames.length > 0) extensions.push(extension('2.5.29.17', false, seq(...spec.altNames.map(generalName))));
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serialNumber()),
    ecdsaWithSha256,
    name(signer.commonName, signer.organizationalUnit),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.commonName, spec.organizationalUnit),
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, signer.privateKey);
  const der = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}

/** A private key as PKCS#8 PEM. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

/** A non-negative INTEGER from big-endian bytes. */
function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if ((b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

function name(commonName: string, organizationalUnit: string | undefined): Buffer {
  const rdn = (type: string, value: string): Buffer => tlv(0x31, seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))));
  return seq(rdn('2.5.4.10', 'raftq'), ...(organizationalUnit !== undefined ? [rdn('2.5.4.11', organizationalUnit)] : []), rdn('2.5.4.3', commonName));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

function generalName(n: SubjectAltName): Buffer {
  if ('dns' in n) return tlv(0x82, Buffer.from(n.dns, 'ascii'));
  if ('uri' in n) return tlv(0x86, Buffer.from(n.uri, 'ascii'));
  return tlv(0x87, ipBytes(n.ip));
}

function ipBytes(ip: string): Buffer {
  const family = isIP(ip);
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  if (family !== 6) throw new TypeError(`not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head === '' || head === undefined ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** 16 random bytes, positive and non-zero (RFC 5280: at most 20 octets). */
function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}

function keyId(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
}

/**
 * One JSON POST to another node's HTTP API, over http or https (verifying the node against the
 * cluster CA). node:http(s) rather than fetch: fetch cannot take a CA without undici's Agent.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Where and how to post. */
export interface PostJsonOptions {
  /** "host:port" of the node. */
  readonly address: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** PEM CA to verify the node against: present means https. */
  readonly ca?: Buffer;
  readonly signal: AbortSignal;
}

/** Posts and reads the whole response; rejects on a network or TLS failure or abort. */
export function postJson(o: PostJsonOptions): Promise<{ status: number; body: unknown }> {
  const data = Buffer.from(JSON.stringify(o.body));
  const url = new URL(`${o.ca !== undefined ? 'https' : 'http'}://${o.address}${o.path}`);
  const options = { method: 'POST', headers: { ...o.headers, 'content-type': 'application/json', 'content-length': String(data.length) }, signal: o.signal };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        let body: unknown = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // Not JSON: the caller reports the status.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    };
    const req = o.ca !== undefined ? httpsRequest(url, { ...options, ca: o.ca }, onResponse) : httpRequest(url, options, onResponse);
    req.on('error', reject);
    req.end(data);
  });
}

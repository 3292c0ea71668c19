import { createServer } from 'node:net';

/**
 * Loopback ports for test nodes, picked from 20000–32767: below Linux's ephemeral range
 * (32768–60999), so a node restarted on its port never finds it taken by some outbound
 * connection's local port, which happens with ports the kernel handed out for `listen(0)`.
 */
const portLow = 20_000;
const portHigh = 32_767;
const portsHandedOut = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** `count` distinct ports that are free on 127.0.0.1 right now and not handed out before. */
export async function freePorts(count: number): Promise<number[]> {
  const out: number[] = [];
  for (let attempts = 0; out.length < count; attempts++) {
    if (attempts > 10_000) throw new Error('no free loopback ports found in 20000-32767');
    const port = portLow + Math.floor(Math.random() * (portHigh - portLow + 1));
    if (portsHandedOut.has(port)) continue;
    if (!(await canBind(port))) continue;
    portsHandedOut.add(port);
    out.push(port);
  }
  return out;
}

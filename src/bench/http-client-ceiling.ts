#!/usr/bin/env node
/**
 * The ceiling of `fetch` as an HTTP load generator on this machine: N concurrent fetch() loops
 * (as ../shared/bench/peers.mjs runs them against raftq) against a node:http server in another
 * process that answers every request at once. Prints requests/s and the client's CPU time per
 * request, which bounds what peers.mjs can measure of any server on the same cores.
 *
 * usage: node dist/src/bench/http-client-ceiling.js [concurrency=64] [seconds=5] [bodyBytes=256]
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const [concurrency = 64, seconds = 5, bodyBytes = 256] = process.argv.slice(2).filter((a) => a !== 'serve').map(Number);

if (process.argv.includes('serve')) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"id":"1-0","offset":1}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
} else {
  const child = fork(process.argv[1]!, ['serve']);
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  const body = JSON.stringify({ body: 'x'.repeat(bodyBytes) });
  let ops = 0;
  let stop = false;
  setTimeout(() => (stop = true), seconds * 1000);
  const progress = setInterval(() => process.stderr.write(`${ops} requests\n`), 1000);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stop) {
        const r = await fetch(`http://127.0.0.1:${port}/v1/queues/q/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await r.arrayBuffer();
        ops++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  clearInterval(progress);
  const elapsedS = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ concurrency, seconds: +elapsedS.toFixed(2), requests: ops, requestsPerS: Math.round(ops / elapsedS), clientCpuUsPerRequest: Math.round((cpu.user + cpu.system) / ops) }));
  child.kill();
}

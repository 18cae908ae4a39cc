// Serves the benchmark page on 127.0.0.1 from a fixed list of files, cross-origin isolated.
//
//   const server = await servePage(root);   // server.url = 'http://127.0.0.1:<port>/'
//   await server.close();
//
// Cross-origin isolation (COOP + COEP) is what gives the page a fine performance.now():
// Chromium coarsens it to 100 µs otherwise, too coarse for sub-millisecond round trips.
// The page fetches nothing from other origins (the WebSocket is not subject to COEP).

import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

/** URL path → [file relative to the repository root, content type]. */
const ROUTES = {
  '/': ['bench/index.html', 'text/html; charset=utf-8'],
  '/mqttjs.js': ['bench/mqttjs.js', 'text/javascript; charset=utf-8'],
  '/mqtt.min.js': ['node_modules/mqtt/dist/mqtt.min.js', 'text/javascript; charset=utf-8'],
  '/pkg/eda_bench.js': ['target/bench-pkg/eda_bench.js', 'text/javascript; charset=utf-8'],
  '/pkg/eda_bench_bg.wasm': ['target/bench-pkg/eda_bench_bg.wasm', 'application/wasm'],
};

export async function servePage(root) {
  const server = http.createServer(async (req, res) => {
    const route = ROUTES[new URL(req.url, 'http://localhost').pathname];
    if (!route || req.method !== 'GET') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const [file, type] = route;
    try {
      const body = await readFile(path.join(root, file));
      res.writeHead(200, {
        'Content-Type': type,
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      });
      res.end(body);
    } catch (error) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(String(error));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Serves the benchmark page on 127.0.0.1 from a fixed list of files, cross-origin isolated.
//
//   const server = await servePage(root);   // server.url = 'http://127.0.0.1:<port>/'
//   await server.close();
//
// The interoperability tests serve their own page with the same build:
//   servePage(root, { '/': ['e2e/interop-page.html', HTML], ...pkgRoutes('target/interop-pkg') })
//
// Cross-origin isolation (COOP + COEP) is what gives the page a fine performance.now():
// Chromium coarsens it to 100 µs otherwise, too coarse for sub-millisecond round trips.
// The page fetches nothing from other origins (the WebSocket is not subject to COEP).

import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

export const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

/** `/pkg/…`: wasm-bindgen's output for the eda-bench crate, in `dir` (relative to the root). */
export const pkgRoutes = (dir) => ({
  '/pkg/eda_bench.js': [`${dir}/eda_bench.js`, JS],
  '/pkg/eda_bench_bg.wasm': [`${dir}/eda_bench_bg.wasm`, 'application/wasm'],
});

/** URL path → [file relative to the repository root, content type]. */
const BENCH_ROUTES = {
  '/': ['bench/index.html', HTML],
  '/mqttjs.js': ['bench/mqttjs.js', JS],
  '/mqtt.min.js': ['node_modules/mqtt/dist/mqtt.min.js', JS],
  ...pkgRoutes('target/bench-pkg'),
};

export async function servePage(root, routes = BENCH_ROUTES) {
  const server = http.createServer(async (req, res) => {
    const route = routes[new URL(req.url, 'http://localhost').pathname];
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

// A minimal static file server for Trunk's dist/ (the page must be served over http for
// WebAssembly streaming compilation).
//
//   const server = await serveDir('dist');   // server.url = 'http://127.0.0.1:<port>'
//   const sub = await serveDir('dist', { prefix: '/eda-playground' });
//                                            // sub.url = 'http://127.0.0.1:<port>/eda-playground'
//   const bench = await serveDir('dist', { also: { '/floor.html': 'bench/socket-floor.html' } });
//                                            // one more file, served beside dist/'s own
//   const secure = await serveDir('dist', { tls: { key, cert } });
//                                            // secure.url = 'https://localhost:<port>', as a
//                                            // published page is served (PEM key and certificate)
//   await server.close();
//
// `/` and extension-less unknown paths (client-side routes) get index.html; query strings are
// ignored; files outside `dir` are never served. With a `prefix` (a subpath, as GitHub Pages
// serves a project at /<repository>/), dir is served under it only: anything else is 404, and
// the prefix without its slash is redirected (301) to the prefix with it, as GitHub Pages and
// nginx redirect a folder, so that the page's relative asset URLs resolve inside the prefix.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.conf': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

async function fileSize(file) {
  try {
    const info = await stat(file);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

export async function serveDir(dir, { prefix = '', also = {}, tls } = {}) {
  const root = path.resolve(dir);
  const base = prefix.replace(/\/+$/, '');
  if (base !== '' && !/^\/[A-Za-z0-9._~\/-]+$/.test(base)) {
    throw new Error(`serveDir: prefix must be a path like '/eda-playground', not ${JSON.stringify(prefix)}`);
  }
  const index = path.join(root, 'index.html');

  const handle = async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      let pathname;
      try {
        pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
      } catch {
        res.writeHead(400).end('bad request');
        return;
      }
      if (base !== '') {
        if (pathname === base) {
          const { search } = new URL(req.url, 'http://localhost');
          res.writeHead(301, { Location: `${base}/${search}` }).end();
          return;
        }
        if (!pathname.startsWith(`${base}/`)) {
          res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
          return;
        }
        pathname = pathname.slice(base.length);
      }
      const extra = Object.hasOwn(also, pathname) ? path.resolve(also[pathname]) : null;
      let file = extra ?? path.join(root, path.normalize(pathname));
      if (!extra && file !== root && !file.startsWith(root + path.sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      if (pathname.endsWith('/')) file = path.join(file, 'index.html');

      let size = await fileSize(file);
      if (size === null && path.extname(pathname) === '') {
        file = index;
        size = await fileSize(file);
      }
      if (size === null) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
        return;
      }
      res.writeHead(200, {
        'Content-Type': MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': size,
        'Cache-Control': 'no-store',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  };
  const server = tls ? https.createServer(tls, handle) : http.createServer(handle);

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    url: `${tls ? 'https' : 'http'}://${tls ? 'localhost' : '127.0.0.1'}:${port}${base}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// A TCP relay in front of a broker, for cases that need a broker which is not there yet (the
// relay starts later) or is slow to answer (each connection held a while): the clients behind
// it show "connecting" meanwhile.
//
//   const path = await relay(port, broker.wsPort, 2_000);   // ws://127.0.0.1:<port>, 2 s late
//   await path.close();

import net from 'node:net';

/**
 * A TCP relay on 127.0.0.1:`port` to 127.0.0.1:`target` (e.g. the suite's Mosquitto's
 * WebSocket port): each connection is held `delayMs` (default 0) before it is joined to the
 * broker, so a client behind it is "connecting" meanwhile. Resolves once listening, with
 * `close()`, which ends every connection through it.
 */
export function relay(port, target, delayMs = 0) {
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.pause();
    client.on('error', () => {});
    setTimeout(() => {
      const upstream = net.connect(target, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    }, delayMs);
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve({
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

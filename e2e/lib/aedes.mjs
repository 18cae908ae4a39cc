// A private aedes broker (npm, MQTT 3.1.1 only) for one test run, the second independent
// broker of the interoperability tests: free ports, its own process (aedes-server.mjs), its log
// in memory. The same shape as startBroker() in broker.mjs:
//
//   const broker = await startAedes();
//   broker.wsUrl                                  // 'ws://127.0.0.1:<wsPort>' for the page
//   await startAedes({ wsPath: '/mqtt' })         // WebSocket at that path only; wsUrl ends in it
//   broker.tcpPort                                // plain MQTT for MQTT.js
//   await broker.waitForLog(/client disconnected interop-1/, 5000);
//   await broker.stop();

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { spawnServer, withFreePorts } from './server-process.mjs';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'aedes-server.mjs');

/**
 * Starts aedes on free ports (or the given ones) and resolves once it listens on both.
 *
 * @param {object} [options]
 * @param {number} [options.tcpPort] fixed port for the TCP listener (127.0.0.1)
 * @param {number} [options.wsPort] fixed port for the WebSocket listener (127.0.0.1)
 * @param {string} [options.wsPath] serve MQTT over WebSocket at this path only (e.g. '/mqtt');
 *   an upgrade elsewhere is refused (logged as "upgrade refused at <path>")
 */
export async function startAedes({ tcpPort, wsPort, wsPath } = {}) {
  return withFreePorts([tcpPort, wsPort], async ([tcp, ws]) => {
    const ready = `aedes ready tcp=${tcp} ws=${ws}`;
    const server = await spawnServer({
      name: 'aedes',
      command: [process.execPath, SERVER, String(tcp), String(ws), ...(wsPath ? [wsPath] : [])],
      ready: ({ log }) => log.includes(ready),
      readyMeans: `print "${ready}"`,
    });
    return {
      tcpPort: tcp,
      wsPort: ws,
      wsUrl: `ws://127.0.0.1:${ws}${wsPath ?? ''}`,
      pid: server.pid,
      log: server.log,
      waitForLog: server.waitForLog,
      stop: server.stop,
      /** True once the process has exited. */
      get exited() {
        return server.exited;
      },
    };
  });
}

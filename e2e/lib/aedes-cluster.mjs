// A private two-node MQTT cluster for one test run: a Redis server and aedes nodes sharing it
// (aedes-cluster-node.mjs), each process on free ports with its log in memory.
//
//   const cluster = await startCluster(['a', 'b']);
//   cluster.nodes.a.wsUrl        // 'ws://127.0.0.1:<wsPort>' for the page
//   cluster.nodes.b.tcpPort      // plain MQTT for MQTT.js
//   await cluster.nodes.a.waitForLog(/client connected eda-/, 5000);
//   await cluster.stop();        // the nodes, then Redis
//
// Redis runs with persistence off (`--save '' --appendonly no`): nothing outlives the test.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { portAccepts, spawnServer, withFreePorts } from './server-process.mjs';

const NODE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'aedes-cluster-node.mjs');

/** Starts `redis-server` (Debian package `redis-server`) on a free port, memory only. */
export async function startRedis({ port } = {}) {
  return withFreePorts([port], async ([redisPort]) => {
    const server = await spawnServer({
      name: 'redis-server',
      command: [
        'redis-server',
        '--port', String(redisPort),
        '--bind', '127.0.0.1',
        '--save', '',
        '--appendonly', 'no',
      ],
      ready: () => portAccepts(redisPort),
      readyMeans: `listen on port ${redisPort}`,
    });
    return { port: redisPort, pid: server.pid, log: server.log, stop: server.stop, kill: server.kill };
  });
}

/** Starts one aedes node named `name` on the Redis at `redisPort`, on free (or given) ports. */
export async function startClusterNode({ name, redisPort, tcpPort, wsPort }) {
  return withFreePorts([tcpPort, wsPort], async ([tcp, ws]) => {
    const ready = `cluster node ${name} ready tcp=${tcp} ws=${ws}`;
    const server = await spawnServer({
      name: `aedes node ${name}`,
      command: [process.execPath, NODE, name, String(redisPort), String(tcp), String(ws)],
      ready: ({ log }) => log.includes(ready),
      readyMeans: `print "${ready}"`,
    });
    return {
      name,
      tcpPort: tcp,
      wsPort: ws,
      wsUrl: `ws://127.0.0.1:${ws}`,
      pid: server.pid,
      log: server.log,
      waitForLog: server.waitForLog,
      stop: server.stop,
      kill: server.kill,
      /** True once the node's process has exited. */
      get exited() {
        return server.exited;
      },
    };
  });
}

/** Redis and one aedes node per name, all started; `stop()` ends every process it started. */
export async function startCluster(names = ['a', 'b']) {
  let redis = await startRedis();
  const nodes = {};
  try {
    for (const name of names) {
      nodes[name] = await startClusterNode({ name, redisPort: redis.port });
    }
  } catch (error) {
    await Promise.all(Object.values(nodes).map((node) => node.stop()));
    await redis.stop();
    throw error;
  }
  return {
    get redis() {
      return redis;
    },
    nodes,
    /** Starts Redis again on its port, after a test stopped or killed it. */
    async restartRedis() {
      redis = await startRedis({ port: redis.port });
      return redis;
    },
    async stop() {
      await Promise.all(Object.values(nodes).map((node) => node.stop()));
      await redis.stop();
    },
  };
}

// Persistent sessions: the broker keeps our subscription and the QoS 1 messages that arrive
// while we are away, and hands them over when the same client id comes back.

import assert from 'node:assert/strict';

export function sessionScenarios(ctx, version, options) {
  const persistent =
    version === 5 ? { cleanSession: false, sessionExpirySecs: 300 } : { cleanSession: false };
  const how = version === 5 ? 'clean start off, session expiry 300 s' : 'clean session off';

  ctx.scenario(
    `persistent session (${how}): QoS 1 messages published while we were away arrive when we come back`,
    options,
    async () => {
      const clientId = ctx.clientId();
      const topic = ctx.topic('session');
      const first = await ctx.ours(version, { clientId, ...persistent });
      assert.equal(first.connected.sessionPresent, false, 'a new client id has no session');
      assert.deepEqual(await first.subscribe(topic, 1), [1]);
      await first.closeAbruptly();
      await ctx.broker.waitForLog(ctx.spec.gone(clientId));

      const peer = await ctx.peer(version);
      const away = ['while away 1', 'while away 2', 'while away 3'];
      for (const payload of away) await peer.publish(topic, payload, { qos: 1 });

      const again = await ctx.ours(version, { clientId, ...persistent }, { name: `${clientId}/2` });
      assert.equal(again.connected.sessionPresent, true, 'the broker kept our session');
      await again.waitFor({ type: 'message', topic }, { count: away.length });
      await peer.publish(topic, 'after', { qos: 1 });
      await again.waitFor({ type: 'message', topic, payload: 'after' });
      const got = await again.events({ type: 'message', topic });
      assert.deepEqual(
        got.map((m) => [m.payload, m.qos]),
        [...away, 'after'].map((payload) => [payload, 1]),
        'each message once, in order, at QoS 1',
      );
    },
  );
}

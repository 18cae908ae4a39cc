// Last Will: published by the broker when our connection ends without DISCONNECT, discarded
// when we leave politely.

import assert from 'node:assert/strict';

export function willScenarios(ctx, version, options) {
  ctx.scenario(
    'last will: closing without DISCONNECT makes the broker publish our will to MQTT.js as we set it',
    options,
    async () => {
      const topic = ctx.topic('will/abrupt');
      const peer = await ctx.peer(version);
      assert.equal(await peer.subscribe(topic, 2), 2);
      const will = { topic, payload: 'ours went away', qos: 1, retain: false };
      const ours = await ctx.ours(version, { will });

      await ours.closeAbruptly();
      const got = await peer.waitFor((m) => m.topic === topic);
      assert.deepEqual(
        { payload: got.payload.toString(), qos: got.qos, retain: got.retain },
        { payload: will.payload, qos: 1, retain: false },
      );
      assert.deepEqual(await ours.trace({ kind: 'DISCONNECT' }), [], 'no DISCONNECT went out');
    },
  );

  ctx.scenario('last will: a polite DISCONNECT makes the broker discard it', options, async () => {
    const topic = ctx.topic('will/polite');
    const peer = await ctx.peer(version);
    assert.equal(await peer.subscribe(topic, 2), 2);
    const ours = await ctx.ours(version, { will: { topic, payload: 'must not appear', qos: 1 } });

    await ours.disconnect();
    await ours.waitFor({ type: 'packet', direction: 'out', kind: 'DISCONNECT' });
    // The broker's word that our DISCONNECT reached it, before the socket closed.
    await ctx.broker.waitForLog(ctx.spec.leftPolitely(ours.name));
    await peer.roundTrip();
    assert.deepEqual(peer.on(topic), [], 'no will after a polite DISCONNECT');
  });
}

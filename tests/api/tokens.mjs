// Id tokens of vehicles registered through the API authorize, over a real websocket: Authorize and
// TransactionEvent answer Accepted for a token of a registered vehicle (also after a restart: the registry is
// replayed from the event log), Invalid for an unknown one (unknown_id_token Invalid), and a config id_tokens
// entry keeps precedence (its status Blocked wins over a vehicle that lists the token; a config entry with a
// type does not accept the token under another type).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDepotd, commandStation, depotConfig, makeTokens, txEvent } from './lib.mjs';

const tokens = makeTokens();
let d, st;
const V = '/api/v1/vehicles';
const req = (m, p, body, token = tokens.dispatcher) => d.req(m, p, { token, body });

async function authorize(idToken, type = 'ISO14443') {
  const r = await st.ok('Authorize', { idToken: { idToken, type } });
  return r.idTokenInfo.status;
}

before(async () => {
  const cfg = depotConfig(tokens, {
    unknown_id_token: 'Invalid',
    id_tokens: [
      { id_token: 'VAN-1', type: 'ISO14443', vehicle: 'van-1' },
      { id_token: 'LOST-CARD', status: 'Blocked' },
      { id_token: 'TYPED', type: 'ISO14443', vehicle: 'van-3' },
    ],
  });
  cfg.control.vehicles[2].id_tokens = ['TYPED'];
  d = new ApiDepotd({ config: cfg });
  await d.start();
  st = await commandStation(d, 'CS1');
});

after(async () => {
  if (st) await st.close();
  if (d) await d.finish();
});

test('a token registered with POST /vehicles is Accepted; an unknown one is Invalid', async () => {
  assert.equal(await authorize('VAN-77'), 'Invalid', 'not registered yet');
  const c = await req('POST', V, { id: 'van-77', fleet: 'south', battery_kwh: 60, id_tokens: ['VAN-77'] });
  assert.equal(c.status, 201, c.text);
  assert.equal(await authorize('VAN-77'), 'Accepted');
  assert.equal(await authorize('VAN-77', 'Central'), 'Accepted', 'registered tokens carry no type');
  assert.equal(await authorize('NOBODY-1'), 'Invalid');
  // The config's vehicles (control.vehicles) are in the registry too.
  assert.equal(await authorize('VAN-2'), 'Accepted');
  // TransactionEvent's idTokenInfo follows the same rule.
  const started = await st.ok('TransactionEvent',
    txEvent({ eventType: 'Started', txId: 'TX-77', seqNo: 0, idToken: 'VAN-77', wh: 0, chargingState: 'Charging' }));
  assert.equal(started.idTokenInfo.status, 'Accepted');
  const stranger = await st.ok('TransactionEvent',
    txEvent({ eventType: 'Started', txId: 'TX-88', seqNo: 0, evseId: 2, idToken: 'NOBODY-2', wh: 0 }));
  assert.equal(stranger.idTokenInfo.status, 'Invalid');
  await st.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId: 'TX-77', seqNo: 1, wh: 1000,
    stoppedReason: 'EVDisconnected' }));
  await st.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId: 'TX-88', seqNo: 1, wh: 0,
    stoppedReason: 'EVDisconnected' }));
});

test('the config keeps precedence: Blocked stays Blocked, a typed entry is not bypassed by its vehicle', async () => {
  assert.equal(await authorize('LOST-CARD'), 'Blocked');
  const c = await req('POST', V, { id: 'van-78', fleet: 'south', id_tokens: ['LOST-CARD'] });
  assert.equal(c.status, 201, c.text);
  assert.equal(await authorize('LOST-CARD'), 'Blocked', 'a vehicle listing a Blocked card does not unblock it');
  assert.equal(await authorize('TYPED', 'ISO14443'), 'Accepted');
  assert.equal(await authorize('TYPED', 'Central'), 'Invalid', 'listed in the config with another type');
  assert.equal(await authorize('VAN-1'), 'Accepted');
});

test('a deleted vehicle\'s token is refused again; a registered one survives a restart', async () => {
  assert.equal((await req('DELETE', `${V}/van-78`)).status, 204);
  assert.equal((await req('POST', V, { id: 'van-79', id_tokens: ['VAN-79'] })).status, 201);
  assert.equal((await req('DELETE', `${V}/van-79`)).status, 204);
  assert.equal(await authorize('VAN-79'), 'Invalid');
  await st.close();
  st = null;
  await d.stop();
  await d.start();
  st = await commandStation(d, 'CS1');
  assert.equal(await authorize('VAN-77'), 'Accepted', 'replayed from the event log');
  assert.equal(await authorize('VAN-79'), 'Invalid', 'its deletion replayed too');
  assert.equal(await authorize('LOST-CARD'), 'Blocked');
});

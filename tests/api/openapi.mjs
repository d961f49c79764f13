// schemas/openapi.json against the running API, both ways:
//   - every documented operation exists and, on a healthy depot, answers a documented status with a body of
//     the documented schema (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it; responses forbid undocumented
//     members), and its 401 is a documented Problem;
//   - no route exists outside it: the route table in src/api.c equals the document's paths and methods, every
//     undocumented method on a documented path is 405 with Allow naming exactly the documented ones, and
//     paths next to documented ones are 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ApiDepotd, PASSWORD, REPO, commandStation, depotConfig, hashPassword, iso, makeTokens, requireRepo, txEvent,
} from './lib.mjs';

// ajv comes with the repo's pinned npm inputs (package-lock.json).
const Ajv2020 = requireRepo('ajv/dist/2020').default;
const addFormats = requireRepo('ajv-formats');

const doc = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'openapi.json'), 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const tokens = makeTokens();
let d, st;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi.json', components: doc.components });
const validator = (schema) => ajv.compile(schema.$ref ? { $ref: 'openapi.json' + schema.$ref } : schema);

function resolve(obj) {
  return obj && obj.$ref ? obj.$ref.split('/').slice(1).reduce((o, k) => o[k], doc) : obj;
}

// Every documented operation: [path template, method, operation].
const operations = [];
for (const [p, item] of Object.entries(doc.paths))
  for (const m of METHODS) if (item[m]) operations.push([p, m, item[m], item.parameters || []]);

before(async () => {
  // CS1 has a password, for POST .../password (A01): it takes the new one.
  // A demand charge, so /plan and /site carry their `demand` object (not null) to be checked.
  const cfg = depotConfig(tokens, { stations: [{ id: 'CS1', password_hash: hashPassword() }, { id: 'CS2' }] });
  cfg.control.demand = { price_per_kw: 9.5 };
  // A feeder tree (which needs the TxDefaultProfile fail-safe), for /circuits and the plan's circuits.
  cfg.control.failsafe = 'TxDefaultProfile';
  cfg.control.circuits = [{ id: 'feeder-1', limit_kw: 60, stations: ['CS1'] }, { id: 'board-2', parent: 'feeder-1', limit_a: 32, stations: ['CS2'] }];
  d = new ApiDepotd({ config: cfg });
  await d.start();
  st = await commandStation(d, 'CS1', (action, payload) => (action === 'SetVariables'
    ? { setVariableResult: payload.setVariableData.map((x) => ({ attributeStatus: 'Accepted', component: x.component,
      variable: x.variable })) }
    : { status: 'Accepted' }), PASSWORD);
  // The session the document's example id names.
  await st.ok('TransactionEvent', txEvent({ eventType: 'Started', txId: 'tx-1', seqNo: 0, wh: 100, idToken: 'VAN-1' }));
});

after(async () => {
  if (st) await st.close();
  if (d) await d.finish();
});

test('the document is OpenAPI 3.1 with an operationId, responses and examples where needed', () => {
  assert.equal(doc.openapi, '3.1.0');
  const ids = new Set();
  for (const [p, m, op, shared] of operations) {
    assert.ok(op.operationId, `${m} ${p}`);
    assert.ok(!ids.has(op.operationId), `duplicate ${op.operationId}`);
    ids.add(op.operationId);
    assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), `${op.operationId} documents a success`);
    for (const prm of [...shared, ...(op.parameters || [])])
      if (prm.in === 'path') assert.ok(prm.example !== undefined, `${op.operationId}: example for ${prm.name}`);
    for (const name of (p.match(/\{(\w+)\}/g) || []).map((x) => x.slice(1, -1)))
      assert.ok([...shared, ...(op.parameters || [])].some((x) => x.in === 'path' && x.name === name), `${p}: ${name}`);
    if (op.requestBody) {
      const schema = resolve(op.requestBody.content['application/json'].schema);
      assert.ok(schema.example, `${op.operationId}: request example`);
      const v = validator(op.requestBody.content['application/json'].schema);
      assert.ok(v(schema.example), `${op.operationId} example: ${ajv.errorsText(v.errors)}`);
    }
  }
});

test('the route table in src/api.c is exactly the documented paths and methods', () => {
  const src = fs.readFileSync(path.join(REPO, 'src', 'api.c'), 'utf8');
  const table = src.slice(src.indexOf('static const struct api_route routes[] = {'));
  const body = table.slice(0, table.indexOf('\n};'));
  const inC = new Set();
  for (const chunk of body.split(/\n\s*\{(?=(?:API_PREFIX )?")/).slice(1)) {
    const m = /^(API_PREFIX )?"([^"]+)"/.exec(chunk);
    const p = (m[1] ? '/api/v1' : '') + m[2];
    for (const [, meth] of chunk.matchAll(/\{API_(GET|PUT|POST|DELETE|PATCH),/g)) inC.add(`${meth} ${p}`);
  }
  const inDoc = new Set(operations.map(([p, m]) => `${m.toUpperCase()} ${p.replace(/\{\w+\}/g, '*')}`));
  assert.ok(inC.size >= 18, `parsed ${inC.size} operations from src/api.c`);
  assert.deepEqual([...inC].sort(), [...inDoc].sort());
});

// A request for an operation built from the document: path examples, and request bodies from the schema's
// example with times moved into the future (the examples are fixed dates).
function build(p, op, shared) {
  let url = p;
  for (const prm of [...shared, ...(op.parameters || [])])
    if (prm.in === 'path') url = url.replace(`{${prm.name}}`, encodeURIComponent(prm.example));
  let body;
  if (op.requestBody) {
    body = structuredClone(resolve(op.requestBody.content['application/json'].schema).example);
    if (body.departure) body.departure = iso(Date.now() + 4 * 3600e3);
    if (body.until) body.until = iso(Date.now() + 3600e3);
  }
  return { url, body };
}

function checkResponse(op, res, what) {
  const documented = op.responses[String(res.status)];
  assert.ok(documented, `${what}: status ${res.status} is not documented (${res.text.slice(0, 200)})`);
  const r = resolve(documented);
  if (!r.content) {
    assert.equal(res.text, '', `${what}: documented without a body`);
    return;
  }
  const ct = res.contentType.split(';')[0];
  assert.ok(r.content[ct], `${what}: content type ${ct} not documented`);
  const schema = r.content[ct].schema;
  if (ct === 'text/plain') {
    assert.equal(typeof res.text, 'string');
    return;
  }
  const v = validator(schema);
  assert.ok(v(res.json), `${what}: ${ajv.errorsText(v.errors)}\n${res.text.slice(0, 400)}`);
}

test('every documented operation answers with the documented shape', async () => {
  // Writes first (so the GET of a departure finds one), deletes last.
  const rank = { put: 0, post: 0, get: 1, delete: 2 };
  const ordered = [...operations].sort((x, y) => rank[x[1]] - rank[y[1]]);
  for (const [p, m, op, shared] of ordered) {
    const { url, body } = build(p, op, shared);
    const what = `${op.operationId} ${m.toUpperCase()} ${url}`;
    const res = await d.req(m.toUpperCase(), url, { token: tokens.admin, body });
    assert.ok(res.status >= 200 && res.status < 300, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
    checkResponse(op, res, what);
    const secured = op.security ? op.security.length > 0 : doc.security.length > 0;
    if (secured) {
      const anon = await d.req(m.toUpperCase(), url, { body });
      assert.equal(anon.status, 401, what);
      checkResponse(op, anon, `${what} without a token`);
    }
  }
});

test('errors the document promises come in its Problem shape', async () => {
  const find = (id) => operations.find((o) => o[2].operationId === id);
  const cases = [
    ['putDeparture', '/api/v1/vehicles/van-1/departure', { departure: iso(Date.now() - 1000), energy_kwh: 1 }, 422],
    ['putDeparture', '/api/v1/vehicles/nope/departure', { departure: iso(Date.now() + 3600e3), energy_kwh: 1 }, 404],
    ['getStation', '/api/v1/stations/NOPE', undefined, 404],
    ['postCommand', '/api/v1/stations/CS2/commands', { action: 'Reset', request: { type: 'OnIdle' } }, 409],
    ['listEvents', '/api/v1/events?limit=0', undefined, 400],
  ];
  for (const [id, url, body, status] of cases) {
    const [, m, op] = find(id);
    const res = await d.req(m.toUpperCase(), url, { token: tokens.admin, body });
    assert.equal(res.status, status, `${id}: ${res.text}`);
    checkResponse(op, res, `${id} ${url}`);
  }
});

test('no route outside the document: other methods are 405 with Allow, neighbouring paths 404', async () => {
  for (const [p, item] of Object.entries(doc.paths)) {
    const ops = METHODS.filter((m) => item[m]);
    const example = build(p, item[ops[0]], item.parameters || []).url;
    for (const m of METHODS.filter((x) => !item[x])) {
      const res = await d.req(m.toUpperCase(), example, { token: tokens.admin, body: m === 'get' ? undefined : {} });
      assert.equal(res.status, 405, `${m} ${example}: ${res.text}`);
      assert.deepEqual(res.headers.get('allow').split(', ').sort(), ops.map((x) => x.toUpperCase()).sort(), example);
    }
    for (const near of [example + '/x', example.replace('/api/v1', '/api/v2'), example + '.json']) {
      if (near === example) continue;
      const res = await d.req('GET', near, { token: tokens.admin });
      assert.equal(res.status, 404, `GET ${near}: ${res.text}`);
    }
  }
});

'use strict';
// The emitter against the stand-in library: what it writes must load into exactly the rows
// the stand-in says it ran (counted by `edpipe load --dry-run --json`), in every behaviour
// the library is known for.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawn } = require('node:child_process');

const standIn = require('./stand_in');
const { emitterClass } = require('..');

const EDPIPE = process.env.EDPIPE_BIN ?? path.join(__dirname, '..', '..', '..', 'build', 'cli', 'edpipe');
const Emitter = emitterClass(standIn.BasePlugin);

function tmpFile(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edpipe-emitter-'));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, name);
}

// `edpipe load --dry-run --json` of a file: what a load of it would give.
function dryRun(file) {
  const out = execFileSync(EDPIPE, ['load', '--dry-run', '--json', '--abandon-after', '1h', file], { encoding: 'utf8' });
  return JSON.parse(out);
}

const managers = [];
test.afterEach(async () => {
  for (const m of managers.splice(0)) await m.shutdown();  // the console as it was
});

async function setUp(config = {}) {
  const file = tmpFile('trace.ndjson');
  const manager = new standIn.PluginManager();
  managers.push(manager);
  const emitter = new Emitter({ output: file, ...config });
  manager.register(emitter);
  await manager.initialize();
  return { file, manager, emitter, report: standIn.newReport() };
}

const ok = (value) => async () => value;
const fail = (message) => async () => { throw new Error(message); };
const modules = [
  { name: 'move.pickup', detect: () => true, jobs: [
    { name: 'notify', run: ok({ sent: true }), options: { moveId: 1 } },
    { name: 'notify', run: ok({ sent: true }), options: { moveId: 2 } },  // same name, concurrent
    { name: 'charge', run: fail('card declined') },
  ] },
  { name: 'move.cancel', detect: () => false },
  { name: 'move.broken', detect: () => { throw new Error('detector bug'); } },
  { name: 'move.handler.throws', detect: () => true, handlerThrows: true },
];

// The rows and statuses the dry run counts, against what the stand-in ran.
function assertLoadsAsReported(summary, report) {
  assert.strictEqual(summary.lines.rejected, 0, JSON.stringify(summary.rejected_by_reason));
  assert.strictEqual(summary.rows.invocations, report.invocations);
  assert.strictEqual(summary.rows.event_executions, report.event_executions);
  assert.strictEqual(summary.rows.job_executions, report.job_executions);
  assert.strictEqual(summary.rows.job_logs, report.job_logs);
  assert.strictEqual(summary.invocations_by_status.completed, report.invocations_completed);
  assert.strictEqual(summary.invocations_by_status.failed, report.invocations_failed);
  assert.strictEqual(summary.invocations_by_status.running + summary.invocations_by_status.abandoned,
                     report.invocations_without_end);
  assert.strictEqual(summary.jobs_by_status.completed, report.jobs_completed);
  assert.strictEqual(summary.jobs_by_status.failed, report.jobs_failed);
  assert.strictEqual(summary.events_by_status.detection_failed, report.events_detection_failed);
  assert.strictEqual(summary.events_by_status.handler_failed, report.events_handler_failed);
  assert.strictEqual(summary.events_by_status.completed + summary.events_by_status.handler_failed,
                     report.events_detected);
}

test('sequential invocations load as the library ran them', async () => {
  const { file, manager, report } = await setUp();
  for (let i = 0; i < 20; i++)
    await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', i), { sourceFunction: 'event-detector-moves', modules });
  const summary = dryRun(file);
  assertLoadsAsReported(summary, report);
  assert.strictEqual(report.job_executions, 60);
  assert.strictEqual(summary.metrics_hourly.reduce((n, h) => n + h.total_invocations, 0), 20);
});

test('concurrent invocations with same-named jobs keep their ids apart', async () => {
  const { file, manager, report } = await setUp();
  const slow = (ms, v) => async () => { await standIn.sleep(ms); return v; };
  const mods = [{ name: 'order.paid', detect: () => true, jobs: [
    { name: 'sync', run: slow(15, 1) }, { name: 'sync', run: slow(1, 2) }, { name: 'sync', run: fail('timeout') },
  ] }];
  await Promise.all(Array.from({ length: 25 }, (_, i) =>
    standIn.listenTo(manager, report, standIn.hasuraEvent('orders', i), { sourceFunction: 'event-detector-orders', modules: mods })));
  assertLoadsAsReported(dryRun(file), report);
});

test('a timeout: jobs that end after the invocation still load under it', async () => {
  const { file, manager, report } = await setUp();
  const mods = [{ name: 'slow.event', detect: () => true, jobs: [{ name: 'slowJob', run: async () => { await standIn.sleep(60); return 'late'; } }] }];
  const r = await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 1), { sourceFunction: 'fn', modules: mods, timeoutMs: 10 });
  assert.strictEqual(r.timedOut, true);
  await r.work;  // the job and the handler end after invocation.end
  await new Promise((resolve) => setImmediate(resolve));  // their records are written at the end of that turn
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const types = lines.map((l) => l.type);
  assert.ok(types.indexOf('invocation.end') < types.indexOf('job.end'), types.join(','));
  const summary = dryRun(file);
  assertLoadsAsReported(summary, report);
  assert.strictEqual(summary.jobs_by_status.completed, 1);
  assert.strictEqual(new Set(lines.map((l) => l.invocation_id)).size, 1);
});

test('no event modules: the shutdown that follows ends the call, and later calls are still written', async () => {
  const { file, manager, report } = await setUp();
  await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 1), { sourceFunction: 'fn', modules: [] });
  await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 2), { sourceFunction: 'fn', modules });
  const summary = dryRun(file);
  assertLoadsAsReported(summary, report);
  assert.strictEqual(summary.records_by_type['invocation.end'], 2);
});

test('ids: the caller\'s invocationId when it is a UUID, source_job_id, correlation id, seq from 0', async () => {
  const { file, manager, report } = await setUp();
  const invocationId = '6bc28136-1d2e-4f3a-9b8c-7d6e5f4a3b2c';
  const sourceJobId = 'f0000009-0000-4000-8000-000000000009';
  const logging = [{ name: 'e', detect: () => true, jobs: [{ name: 'j', run: async () => { console.log('one'); console.warn('two %d', 2); } }] }];
  await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 1),
                        { sourceFunction: 'fn', invocationId, sourceJobId, correlationId: 'corr-1', modules: logging });
  await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 2),
                        { sourceFunction: 'fn', invocationId: 'not-a-uuid', modules: logging });
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.strictEqual(lines[0].invocation_id, invocationId);
  assert.strictEqual(lines[0].source_job_id, sourceJobId);
  assert.ok(lines.filter((l) => l.invocation_id === invocationId).every((l) => l.correlation_id === 'corr-1'));
  const second = lines.find((l) => l.invocation_id !== invocationId).invocation_id;
  assert.match(second, /^[0-9a-f-]{36}$/);
  for (const id of [invocationId, second]) {
    const logs = lines.filter((l) => l.type === 'job.log' && l.invocation_id === id);
    assert.deepStrictEqual(logs.map((l) => l.seq), [0, 1]);
    assert.deepStrictEqual(logs.map((l) => [l.level, l.message]), [['info', 'one'], ['warn', 'two 2']]);
    const job = lines.find((l) => l.type === 'job.start' && l.invocation_id === id);
    assert.ok(logs.every((l) => l.job_execution_id === job.job_execution_id));
  }
  report.job_logs = 4;
  const summary = dryRun(file);
  assertLoadsAsReported(summary, report);
  assert.strictEqual(summary.chained_invocations, 1);
});

test('console lines of concurrent jobs go to their own job; lines outside a job are not captured', async () => {
  const { file, manager, report } = await setUp();
  const say = (word, ms) => async () => { await standIn.sleep(ms); console.log(word); await standIn.sleep(ms); console.log(word); };
  const mods = [{ name: 'e', detect: () => true, jobs: [{ name: 'a', run: say('alpha', 5) }, { name: 'b', run: say('beta', 2) }] }];
  console.log('outside any invocation');
  await Promise.all([1, 2, 3].map((i) => standIn.listenTo(manager, report, standIn.hasuraEvent('moves', i), { sourceFunction: 'fn', modules: mods })));
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const jobOf = new Map(lines.filter((l) => l.type === 'job.start').map((l) => [l.job_execution_id, l.job_name]));
  const logs = lines.filter((l) => l.type === 'job.log');
  assert.strictEqual(logs.length, 12);
  for (const l of logs) assert.strictEqual(l.message, jobOf.get(l.job_execution_id) === 'a' ? 'alpha' : 'beta');
  report.job_logs = 12;
  assertLoadsAsReported(dryRun(file), report);
});

test('job options: internal keys are never written; captureJobOptions false writes none', async () => {
  for (const capture of [true, false]) {
    const { file, manager, report } = await setUp({ captureJobOptions: capture, captureHasuraPayload: false });
    const cyclic = { moveId: 7 };
    cyclic.self = cyclic;
    const mods = [{ name: 'e', detect: () => true, jobs: [{ name: 'j', run: ok(1), options: { moveId: 7, nested: cyclic, fn() {} } }] }];
    await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 1), { sourceFunction: 'fn', modules: mods });
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const start = lines.find((l) => l.type === 'job.start');
    if (capture) assert.deepStrictEqual(start.job_options, { moveId: 7, nested: { moveId: 7 } });
    else assert.strictEqual(start.job_options, undefined);
    assert.strictEqual(lines[0].source_event_payload, undefined);
    assert.strictEqual(lines[0].source_table, 'moves');
    assert.match(lines[0].source_event_time, /Z$/);
    assertLoadsAsReported(dryRun(file), report);
  }
});

test('onLog: attributed when exactly one running job matches, counted otherwise', async () => {
  const { file, manager, emitter, report } = await setUp({ captureConsoleLog: false });
  let release;
  const gate = new Promise((r) => { release = r; });
  const mods = [{ name: 'e', detect: () => true, jobs: [{ name: 'j', run: () => gate }] }];
  const a = standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 1), { sourceFunction: 'fn', correlationId: 'c1', modules: mods });
  const b = standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 2), { sourceFunction: 'fn', correlationId: 'c1', modules: mods });
  const c = standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 3), { sourceFunction: 'fn', correlationId: 'c2', modules: mods });
  await standIn.sleep(5);
  await manager.call('onLog', 'info', 'ambiguous: two invocations run j under c1', {}, 'j', 'c1');
  await manager.call('onLog', 'warn', 'the job of c2', { n: 1 }, 'j', 'c2');
  await manager.call('onLog', 'info', 'no such job', {}, 'other', 'c2');
  release();
  await Promise.all([a, b, c]);
  assert.strictEqual(emitter.stats.unattributedLogs, 2);
  const logs = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'job.log');
  assert.strictEqual(logs.length, 1);
  assert.deepStrictEqual(logs[0].data, { n: 1 });
  report.job_logs = 1;
  assertLoadsAsReported(dryRun(file), report);
});

test('a write that fails (a full disk) is counted, never thrown into the function', async () => {
  const manager = new standIn.PluginManager();
  managers.push(manager);
  const emitter = new Emitter({ output: '/dev/full' });
  manager.register(emitter);
  await manager.initialize();
  const r = await standIn.listenTo(manager, standIn.newReport(), standIn.hasuraEvent('moves', 1), { sourceFunction: 'fn', modules });
  assert.strictEqual(r.events.length, modules.length);
  assert.strictEqual(emitter.stats.records, 0);
  assert.ok(emitter.stats.lostRecords >= 10, String(emitter.stats.lostRecords));
});

test('enabled: false writes nothing', async () => {
  const { file, manager, report } = await setUp({ enabled: false });
  await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', 1), { sourceFunction: 'fn', modules });
  assert.strictEqual(fs.existsSync(file), false);
});

test('a process killed mid-run loses at most the line it was writing, and the next process writes whole lines', async () => {
  const file = tmpFile('killed.ndjson');
  const child = spawn(process.execPath, [path.join(__dirname, 'busy_function.js'), file], { stdio: 'ignore' });
  // Let it write for a while, then kill it without warning.
  // (Bounded: a loaded machine may take seconds to start Node.)
  for (let i = 0; i < 2000 && !(fs.existsSync(file) && fs.statSync(file).size > 200000); i++) await standIn.sleep(10);
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const killed = fs.readFileSync(file, 'utf8');
  assert.ok(killed.length > 0);
  // Every line but a last one without its newline (a write the kill cut at a page) is whole.
  const whole = killed.endsWith('\n') ? killed.trimEnd().split('\n') : killed.split('\n').slice(0, -1);
  for (const line of whole) JSON.parse(line);
  const cut = killed.endsWith('\n') ? 0 : 1;
  // The function runs again and appends to the same file: its lines do not run on from a cut one.
  const again = spawn(process.execPath, [path.join(__dirname, 'busy_function.js'), file, '3'], { stdio: 'ignore' });
  await new Promise((r) => again.on('exit', r));
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'the last line is whole');
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.length >= whole.length + cut + 3 * 5, 'the second run wrote its own lines');
  for (const line of lines.slice(whole.length + cut)) JSON.parse(line);
  const summary = dryRun(file);
  assert.strictEqual(summary.lines.rejected, cut);
  assert.ok(summary.rows.invocations > 0);
});

test('ids are UUIDv7: the time in their first 48 bits, unique, in time order across milliseconds', async () => {
  const { uuidv7 } = require('..');
  const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const before = Date.now();
  const first = Array.from({ length: 5000 }, uuidv7);  // past the random pool's size, several times
  const after = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const later = uuidv7();
  const seen = new Set();
  for (const id of first) {
    assert.match(id, V7);
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    assert.ok(ms >= before && ms <= after, `${id}: ${ms} outside ${before}..${after}`);
    seen.add(id);
  }
  assert.strictEqual(seen.size, first.length);
  for (const id of first) assert.ok(id < later, `${id} sorts after ${later}, made later`);
});

test('appending to a file whose last line a kill cut short: the cut line stays alone, the new lines are whole', () => {
  const { LineSink } = require('..');
  const file = tmpFile('cut.ndjson');
  fs.writeFileSync(file, '{"type":"invocation.start"}\n{"type":"invoc');  // a write cut mid-line
  const stats = { records: 0, lostRecords: 0 };
  const sink = new LineSink(file, stats);
  sink.write('{"a":1}\n');
  sink.flush();
  assert.strictEqual(fs.readFileSync(file, 'utf8'), '{"type":"invocation.start"}\n{"type":"invoc\n{"a":1}\n');
  // A whole file is appended to as it is.
  const whole = tmpFile('whole.ndjson');
  fs.writeFileSync(whole, '{"b":2}\n');
  const again = new LineSink(whole, stats);
  again.write('{"c":3}\n');
  again.flush();
  assert.strictEqual(fs.readFileSync(whole, 'utf8'), '{"b":2}\n{"c":3}\n');
});

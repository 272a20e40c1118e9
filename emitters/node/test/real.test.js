'use strict';
// The emitter inside the real detector library (@hopdrive/hasura-event-detector 2.3.6, installed
// by scripts/detector-library into the build folder): a function process runs every kind of
// listenTo() call the library knows, edpipe loads what the emitter wrote into a real
// PostgreSQL database, and every call is held against what the library returned and what each
// of its jobs did (real/check.js).
//   EDPIPE_DETECTOR_LIBRARY  the installed package folder (…/node_modules/@hopdrive/hasura-event-detector);
//                            else EDPIPE_DETECTOR_LIBRARY_INSTALLED, where CTest expects scripts/detector-library put it
//   EDPIPE_TEST_PG_DIR       the test cluster (scripts/pg), EDPIPE_BIN the edpipe binary
// Without the library it says so and exits 77 (a skip), unless EDPIPE_REQUIRE_DETECTOR_LIBRARY=1.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawn } = require('node:child_process');
const { check } = require('./real/check');

const library = process.env.EDPIPE_DETECTOR_LIBRARY || process.env.EDPIPE_DETECTOR_LIBRARY_INSTALLED || '';
if (!fs.existsSync(path.join(library, 'package.json'))) {
  const why = `the real detector library is not installed (EDPIPE_DETECTOR_LIBRARY=${library || 'unset'}; scripts/detector-library installs it)`;
  if (process.env.EDPIPE_REQUIRE_DETECTOR_LIBRARY === '1') {
    test('the real detector library is installed', () => assert.fail(why));
    return;
  }
  process.stderr.write(`SKIPPED: ${why}\n`);
  process.exit(77);
}

const EDPIPE = process.env.EDPIPE_BIN ?? path.join(__dirname, '..', '..', '..', 'build', 'cli', 'edpipe');
const DRIVER = path.join(__dirname, 'real', 'driver.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edpipe-real-library-'));
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

// libpq settings of the test cluster, and a database of this test's own.
function database() {
  const env = { ...process.env };
  const settings = fs.readFileSync(path.join(process.env.EDPIPE_TEST_PG_DIR, 'env'), 'utf8').trim();
  for (const kv of settings.split(/\s+/)) {
    const at = kv.indexOf('=');
    env[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const name = `edpipe_real_library_${process.pid}`;
  const psql = (db, sql) => execFileSync('psql', ['-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql],
                                         { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  psql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  psql('postgres', `CREATE DATABASE ${name}`);
  test.after(() => psql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  env.PGDATABASE = name;
  return { env, query: (sql) => psql(name, sql) };
}

// A function process: the driver with its stdout (the emitter's records) in a file.
function runDriver(name, config, { killAfterCalls } = {}) {
  const records = path.join(work, `${name}.ndjson`);
  const truth = path.join(work, `${name}.truth.ndjson`);
  const full = { library: library, truth, ...config };
  return new Promise((resolve, reject) => {
    const out = fs.openSync(records, 'w');
    const err = fs.openSync(path.join(work, `${name}.stderr`), 'w');
    const child = spawn(process.execPath, [DRIVER, JSON.stringify(full)], { stdio: ['ignore', out, err] });
    fs.closeSync(out);
    fs.closeSync(err);
    // Bounded: the longest run takes about a minute on a loaded 2-core machine.
    const limit = setTimeout(() => child.kill('SIGKILL'), 300000);
    let poll;
    if (killAfterCalls) {  // SIGKILL mid-run, once this many calls have returned
      poll = setInterval(() => {
        const done = fs.existsSync(truth) ? fs.readFileSync(truth, 'utf8').split('"kind":"call"').length - 1 : 0;
        if (done >= killAfterCalls) child.kill('SIGKILL');
      }, 20);
    }
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      clearInterval(poll);
      const stderr = fs.readFileSync(path.join(work, `${name}.stderr`), 'utf8');
      if (killAfterCalls ? signal !== 'SIGKILL' : code !== 0)
        return reject(new Error(`driver ${name}: exit ${code} ${signal}\n${stderr.split('\n').filter((l) => !l.startsWith('[')).slice(-20).join('\n')}`));
      const lines = fs.readFileSync(truth, 'utf8').split('\n');
      if (killAfterCalls && !lines[lines.length - 1].endsWith('}')) lines.pop();  // a line cut by the kill
      resolve({ records, truth: lines.filter((l) => l.trim()).map((l) => JSON.parse(l)) });
    });
  });
}

const ALL = ['sequential', 'concurrent', 'correlation', 'chains', 'timeouts', 'serverless', 'quiet'];

test('every call loads as the real library ran it', { timeout: 600000 }, async () => {
  const scale = Number(process.env.EDPIPE_REAL_LIBRARY_SCALE ?? 1);
  // Registered the way the README says (listenTo initializes the plugins), with upstream's
  // tracking-token plugin; then initialized by the process first, without it; then killed.
  const runs = [
    await runDriver('listen-to', { mode: 'listenTo', extraction: true, seed: 11, scale, scenarios: ALL }),
    await runDriver('initialize-first', { mode: 'initialize-first', extraction: false, seed: 12, scale, scenarios: ALL }),
    await runDriver('killed', { mode: 'listenTo', extraction: true, seed: 13, scale, scenarios: ['concurrent', 'sequential'], endless: true },
                    { killAfterCalls: 120 }),
  ];
  const killed = fs.readFileSync(runs[2].records, 'utf8');
  assert.ok(killed.endsWith('\n'), 'the killed process left whole lines');

  const db = database();
  execFileSync(EDPIPE, ['migrate', 'up'], { env: db.env, stdio: 'ignore' });
  const load = JSON.parse(execFileSync(EDPIPE, ['load', '--json', ...runs.map((r) => r.records)],
                                       { env: db.env, encoding: 'utf8', maxBuffer: 1 << 26 }));
  assert.strictEqual(load.lines.rejected, 0, JSON.stringify(load.rejected_by_reason));

  const rows = JSON.parse(db.query(`SELECT json_build_object(
    'invocations', (SELECT coalesce(json_agg(json_build_object('id', id, 'event_id', source_event_id, 'status', status,
                      'correlation_id', correlation_id, 'source_job_id', source_job_id)), '[]') FROM invocations),
    'events', (SELECT coalesce(json_agg(json_build_object('id', id, 'inv', invocation_id, 'name', event_name, 'status', status,
                      'detection_error', detection_error, 'handler_error', handler_error)), '[]') FROM event_executions),
    'jobs', (SELECT coalesce(json_agg(json_build_object('id', id, 'inv', invocation_id, 'event', event_execution_id,
                      'name', job_name, 'status', status, 'tag', result->>'tag')), '[]') FROM job_executions),
    'logs', (SELECT coalesce(json_agg(json_build_object('inv', invocation_id, 'job', job_execution_id, 'message', message)), '[]')
               FROM job_logs))`));

  const truth = runs.flatMap((r) => r.truth);
  const { calls, wrong } = check(truth, rows);
  const byScenario = {};
  for (const c of truth.filter((r) => r.kind === 'call')) byScenario[c.scenario] = (byScenario[c.scenario] ?? 0) + 1;
  process.stderr.write(`${calls - wrong.length} of ${calls} calls right; calls by kind: ${JSON.stringify(byScenario)}\n`);
  assert.ok(calls >= 1000 * Math.min(scale, 1), `${calls} calls ran`);
  for (const kind of ['no-modules', 'chained-by-token', 'chained-by-option', 'timeout', 'serverless', 'correlation', 'quiet'])
    assert.ok(byScenario[kind] > 0, `no ${kind} call ran`);
  if (wrong.length > 0) {
    const kinds = {};
    for (const w of wrong) for (const why of w.why) {
      const kind = why.replace(/c\d+\.\d+\.[\w.]+/g, 'TAG').replace(/[0-9a-f-]{36}/g, 'ID').slice(0, 60);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    process.stderr.write(`what is wrong, by kind: ${JSON.stringify(kinds, null, 1)}\n`);
  }
  for (const run of runs.slice(0, 2)) {
    const stats = run.truth.find((r) => r.kind === 'stats').stats;
    assert.strictEqual(stats.lostRecords, 0, 'no record lost');
    assert.strictEqual(stats.unattributedLogs, 0, 'every logger line of a job found its job');
  }
  assert.deepStrictEqual(wrong.slice(0, 5), [], `${wrong.length} of ${calls} calls are not right`);
});

'use strict';
// Runs the emitter inside the real detector library, as a function process would: listenTo()
// calls of every kind the library knows (sequential, concurrent, throwing detectors, handlers
// and jobs, same-named jobs, console and logger lines, chained calls linked by tracking token
// and by sourceJobId, correlation ids, timeouts, no event modules, serverlessMode). The
// emitter writes to stdout; what really ran (the library's return values, and what each job
// did) goes to the truth file, one JSON line each, written at once.
//   node driver.js CONFIG_JSON
// CONFIG: { library, truth, mode: 'listenTo' | 'initialize-first', extraction, seed, scale,
//           scenarios: [names], endless }
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Console } = require('node:console');
const { randomUUID } = require('node:crypto');

const config = JSON.parse(process.argv[2]);
// The library and the jobs print to the console; the emitter's records own stdout.
globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });

const lib = require(config.library);
const plan = require('./plan');
const { emitterClass } = require('../..');

const truthFd = fs.openSync(config.truth, 'a');
const chains = [];
const record = (obj) => {
  fs.writeSync(truthFd, `${JSON.stringify(obj)}\n`);
  if (obj.kind === 'chain') chains.push(obj);
};
plan.use(lib, record);

// mulberry32: the same cases for the same seed.
let seed = config.seed >>> 0;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (choices) => {  // [[value, weight], ...]
  let r = random() * choices.reduce((n, [, w]) => n + w, 0);
  for (const [v, w] of choices) if ((r -= w) < 0) return v;
  return choices[choices.length - 1][0];
};

const EVENTS = fs.readdirSync(path.join(__dirname, 'events')).map((f) => f.replace(/\.js$/, '')).sort();
const eventsDir = path.join(__dirname, 'events');
const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edpipe-no-events-'));
process.on('exit', () => fs.rmSync(emptyDir, { recursive: true, force: true }));

let calls = 0;
function newPlan({ chain, slow } = {}) {
  const n = ++calls;
  const p = {};
  for (const e of EVENTS) {
    const jobs = [];
    const count = 1 + Math.floor(random() * 4);
    for (let k = 0; k < count; k++) {
      jobs.push({
        name: pick([['notify', 3], ['charge', 2], ['audit', 1], ['sync', 1]]),
        tag: `c${config.seed}.${n}.${e}.${k}`,
        ms: 2 + Math.floor(random() * 30),
        fail: random() < 0.15,
        logger: random() < 0.5,
        warn: random() < 0.3,
      });
    }
    p[e] = { detect: pick([['yes', 45], ['no', 40], ['throw', 15]]),
             handler: pick([['ok', 75], ['throw-before', 10], ['throw-after', 15]]), jobs };
  }
  if (chain) {  // the first event runs a job that causes the next call
    const first = p[EVENTS[0]];
    Object.assign(first, { detect: 'yes', handler: 'ok' });
    first.jobs.push({ name: 'emit-next', tag: `c${config.seed}.${n}.chain`, ms: 5, fail: false, logger: false, warn: false, chain });
  }
  if (slow) {  // cut off by the timeout: a fast job ends, a slow one is aborted and goes on
    for (const e of EVENTS) p[e] = { detect: 'no', handler: 'ok', jobs: [] };
    p[EVENTS[0]] = { detect: 'yes', handler: 'ok', jobs: [
      { name: 'quick', tag: `c${config.seed}.${n}.quick`, ms: 4, fail: false, logger: true, warn: false },
      { name: 'slow', tag: `c${config.seed}.${n}.slow`, ms: 3000, fail: false, logger: true, warn: false, late: true },
    ] };
  }
  return p;
}

function hasuraEvent(p, extra = {}) {
  return {
    id: randomUUID(),
    created_at: new Date().toISOString().replace('Z', ''),
    table: { schema: 'public', name: 'orders' },
    trigger: { name: 'orders_events' },
    event: {
      op: 'UPDATE',
      session_variables: { 'x-hasura-role': 'dispatcher', 'x-hasura-user-email': 'ops@example.com' },
      data: { old: { id: calls, status: 'new' }, new: { id: calls, status: 'paid', plan: p, ...extra } },
    },
  };
}

const summary = (r) => ({
  timedOut: r.timedOut === true,
  error: r.error === undefined ? undefined : String(r.error),
  events: (r.events ?? []).map((e) => ({
    name: e.name, detected: e.detected === true,
    jobs: (e.jobs ?? []).map((j) => ({ name: j.name, completed: j.completed === true, tag: j.result?.tag })),
  })),
});

async function call(scenario, { p = newPlan(), options = {}, row = {}, expect = {} } = {}) {
  const ev = hasuraEvent(p, row);
  const opts = { eventModulesDirectory: eventsDir, sourceFunction: `real-${scenario}`, ...options };
  const result = await lib.listenTo(ev, opts);
  record({ kind: 'call', scenario, eventId: ev.id, correlationId: ev.__correlationId, plan: p,
           noModules: opts.eventModulesDirectory === emptyDir, result: summary(result), ...expect });
  return ev;
}

const scale = (n) => Math.max(1, Math.round(n * (config.scale ?? 1)));
const scenarios = {
  async sequential() {
    for (let i = 0; i < scale(200); i++) {
      if (i % 10 === 9) await call('no-modules', { options: { eventModulesDirectory: emptyDir } });
      else await call('sequential');
    }
  },
  async concurrent() {
    for (let b = 0; b < scale(12); b++) await Promise.all(Array.from({ length: 50 }, () => call('concurrent')));
  },
  async correlation() {
    for (let b = 0; b < scale(6); b++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => {
        const correlationId = i % 3 === 0 ? `not-a-uuid-${b}-${i}` : randomUUID();
        return call('correlation', { options: { correlationId }, expect: { passedCorrelationId: correlationId } });
      }));
    }
  },
  async chains() {
    for (let i = 0; i < scale(60); i++) {
      const how = i % 2 === 0 ? 'token' : 'option';
      const source = await call('chain-source', { p: newPlan({ chain: how }) });
      const link = chains.find((c) => c.eventId === source.id);
      if (!link) throw new Error(`the chain job of ${source.id} did not run`);
      const next = how === 'token' ? { row: { updated_by: link.token } } : { options: { sourceJobId: link.sourceJobId } };
      await call(`chained-by-${how}`, { ...next, expect: { sourceTag: link.tag } });
    }
  },
  async timeouts() {
    // A Lambda's clock: 1.2 s left, 0.7 s kept back; the library checks every 0.5 s.
    const timeoutConfig = () => {
      const deadline = Date.now() + 1200;
      return { getRemainingTimeInMillis: () => deadline - Date.now(), safetyMargin: 700 };
    };
    await Promise.all(Array.from({ length: scale(8) }, () =>
      call('timeout', { p: newPlan({ slow: true }), options: { timeoutConfig: timeoutConfig() }, expect: { timesOut: true } })));
    await new Promise((r) => setTimeout(r, 3200));  // the aborted jobs run on; their late lines come now
  },
  // The library told not to print (logToConsole: false, which sticks for the process: the last
  // scenario): a job's logger lines reach the emitter through onLog instead of the console.
  async quiet() {
    for (let b = 0; b < scale(6); b++)
      await Promise.all(Array.from({ length: 10 }, () => call('quiet', { options: { logToConsole: false } })));
  },
  async serverless() {
    for (let i = 0; i < scale(100); i++) {
      if (i % 25 === 24) await call('no-modules', { options: { eventModulesDirectory: emptyDir, timeoutConfig: { serverlessMode: true } } });
      else await call('serverless', { options: { timeoutConfig: { serverlessMode: true, maxExecutionTime: 20000 } } });
    }
  },
};

async function main() {
  const Emitter = emitterClass(lib.BasePlugin);
  const emitter = new Emitter({ output: 'stdout', sourceFunction: 'real-library-tests' });
  lib.pluginManager.register(emitter);
  if (config.extraction) lib.pluginManager.register(new lib.TrackingTokenExtractionPlugin());
  if (config.mode === 'initialize-first') await lib.pluginManager.initialize();
  do {
    for (const name of config.scenarios) await scenarios[name]();
  } while (config.endless);
  record({ kind: 'stats', mode: config.mode, stats: emitter.stats });
}

main().catch((e) => {
  process.stderr.write(`driver: ${e.stack}\n`);
  process.exit(1);
});

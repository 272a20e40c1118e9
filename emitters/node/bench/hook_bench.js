'use strict';
// What the emitter costs a function, measured:
//   node bench/hook_bench.js [--invocations N] [--output FILE]
// 1. per hook: each hook called directly in a loop, writing to FILE (default /dev/null; a file in
//    the page cache is what a function's log collector reads from), in µs per call;
// 2. listenTo() through the stand-in library, with and without the emitter registered: the
//    throughput of both and the cost per hook the emitter adds.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const standIn = require('../test/stand_in');
const { emitterClass } = require('..');

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const invocations = Math.min(Number(opt('--invocations', 20000)), 1000000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edpipe-hook-bench-'));
const output = opt('--output', path.join(dir, 'trace.ndjson'));
const Emitter = emitterClass(standIn.BasePlugin);

function perCall(label, n, fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${label.padEnd(28)} ${us.toFixed(2).padStart(7)} µs per call`);
  return us;
}

async function hooks() {
  const emitter = new Emitter({ output, captureConsoleLog: false });
  const n = 50000;
  const events = Array.from({ length: 100 }, (_, i) => standIn.hasuraEvent('moves', i));
  events.forEach((e) => emitter.onInvocationStart(e, { sourceFunction: 'fn', correlationId: 'c' }));
  const ev = (i) => events[i % events.length];
  console.log(`per hook (${n} calls each, output ${output}):`);
  const costs = [
    perCall('onInvocationStart (payload)', n, (i) => emitter.onInvocationStart(ev(i), { sourceFunction: 'fn' })),
    perCall('onEventDetectionStart', n, (i) => emitter.onEventDetectionStart('move.pickup', ev(i))),
    perCall('onEventDetectionEnd', n, (i) => emitter.onEventDetectionEnd('move.pickup', true, ev(i), 3)),
    perCall('onJobStart', n, (i) => emitter.onJobStart('notify', { moveId: i, abortSignal: null }, 'move.pickup', ev(i))),
    perCall('onJobEnd', n, (i) => emitter.onJobEnd('notify', { completed: true, result: { ok: true } }, 'move.pickup', ev(i), 12)),
    perCall('onInvocationEnd', n, (i) => emitter.onInvocationEnd(ev(i), { events: [] }, 40)),
  ];
  // onLog as a job sees it: one invocation running the job it names.
  const logging = new Emitter({ output, captureConsoleLog: false });
  const one = standIn.hasuraEvent('moves', 0);
  logging.onInvocationStart(one, { sourceFunction: 'fn', correlationId: 'c' });
  logging.onJobStart('notify', {}, 'move.pickup', one);
  costs.push(perCall('onLog', n, (i) => logging.onLog('info', 'step', { i }, 'notify', 'c')));
  await logging.shutdown();
  console.log(`worst hook: ${Math.max(...costs).toFixed(2)} µs (target < 20 µs)\n`);
  await emitter.shutdown();
}

async function throughput(withEmitter) {
  const manager = new standIn.PluginManager();
  const emitter = withEmitter ? new Emitter({ output }) : null;
  if (emitter) manager.register(emitter);
  await manager.initialize();
  const report = standIn.newReport();
  const modules = [
    { name: 'move.pickup', detect: () => true, jobs: [{ name: 'notify', run: async () => ({ sent: true }) }, { name: 'charge', run: async () => 1 }] },
    { name: 'move.cancel', detect: () => false },
    { name: 'move.deliver', detect: () => false },
  ];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < invocations; i++)
    await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', i), { sourceFunction: 'fn', modules });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await manager.shutdown();
  const records = emitter ? emitter.stats.records : 0;
  return { s, records };
}

(async () => {
  try {
    await hooks();
    // Alternate the two, best of three each: this VM's timings vary by ±10–20 %.
    let without = Infinity, withE = Infinity, records = 0;
    for (let round = 0; round < 3; round++) {
      without = Math.min(without, (await throughput(false)).s);
      const w = await throughput(true);
      withE = Math.min(withE, w.s);
      records = w.records;
    }
    const hooksPerRun = records;
    console.log(`listenTo() x ${invocations} through the stand-in (3 modules, 1 detected, 2 jobs; best of 3):`);
    console.log(`  without the emitter: ${(invocations / without).toFixed(0)} calls/s`);
    console.log(`  with the emitter:    ${(invocations / withE).toFixed(0)} calls/s (${records / invocations} records a call)`);
    console.log(`  added per hook:      ${(((withE - without) * 1e6) / hooksPerRun).toFixed(2)} µs`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();

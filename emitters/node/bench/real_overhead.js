'use strict';
// What the emitter adds to a listenTo() call of the real detector library, registered as the
// README says (listenTo() initializes the plugins), against the same calls without it:
//   EDPIPE_DETECTOR_LIBRARY=…/node_modules/@hopdrive/hasura-event-detector \
//     node bench/real_overhead.js [--calls N] [--rounds R] [--job-ms MS] > /dev/null
// Each call runs the five event modules of the real-library tests on one fixed plan: two
// events detected, three jobs each (one logs through the job's logger, all print to the
// console), by default without waiting, so a call costs only what the library and its plugins
// do (the worst case for the emitter); --job-ms makes each job wait that long, as for I/O. Rounds of N
// calls with the emitter and N without alternate in one process, the emitter switched off in
// between (not enabled, so the library skips it; console unwrapped; async context released),
// so a noisy machine slows both alike. The result is the median over rounds of the ratio.
// Everything the calls print and write goes to stdout (send it to /dev/null, as a function's
// log collector takes it); the result goes to stderr.
const path = require('node:path');
const { randomUUID } = require('node:crypto');

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const library = process.env.EDPIPE_DETECTOR_LIBRARY;
if (!library) {
  process.stderr.write('real_overhead: set EDPIPE_DETECTOR_LIBRARY to the installed package (scripts/detector-library prints it)\n');
  process.exit(2);
}
const calls = Math.min(opt('--calls', 100), 10000);
const rounds = Math.min(opt('--rounds', 60), 1000);
const jobMs = Math.min(opt('--job-ms', 0), 1000);  // how long each job waits (for I/O, say): 0 = not at all

const lib = require(library);
const plan = require('../test/real/plan');
const { emitterClass } = require('..');
plan.use(lib, () => {});
const steps = {};
for (const [i, e] of ['move.delivered', 'move.pickup', 'order.cancelled', 'order.paid', 'order.refunded'].entries()) {
  steps[e] = { detect: i < 2 ? 'yes' : 'no', handler: 'ok', jobs: [0, 1, 2].map((k) => ({
    name: k === 2 ? 'charge' : 'notify', tag: `${e}.${k}`, ms: jobMs, fail: false, logger: k === 0, warn: false })) };
}
const eventsDir = path.join(__dirname, '..', 'test', 'real', 'events');
const once = () => lib.listenTo({
  id: randomUUID(), created_at: new Date().toISOString().replace('Z', ''), table: { schema: 'public', name: 'orders' },
  event: { op: 'UPDATE', session_variables: { 'x-hasura-role': 'dispatcher' }, data: { old: { id: 1 }, new: { id: 1, plan: steps } } },
}, { eventModulesDirectory: eventsDir, sourceFunction: 'bench' });

const emitter = new (emitterClass(lib.BasePlugin))({ output: 'stdout', sourceFunction: 'bench' });
lib.pluginManager.register(emitter);

// Switched off, the emitter leaves nothing behind: its hooks are not called (the library skips a
// plugin that is not enabled), the console is its own again, and the async context it tracks is
// released (with no AsyncLocalStorage in use, Node stops tracking promises).
async function switchTo(on) {
  if (on === emitter.enabled) return;
  emitter.enabled = on;
  if (on) await emitter.initialize();
  else {
    await emitter.shutdown();
    emitter.release();
  }
}

async function round(on) {
  await switchTo(on);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await once();
  const cpu = process.cpuUsage(cpu0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1000 / calls, cpu: (cpu.user + cpu.system) / calls };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  for (let i = 0; i < 300; i++) await once();  // warm-up, with the emitter
  const withIt = [], without = [];
  for (let r = 0; r < rounds; r++) {
    for (const on of r % 2 === 0 ? [false, true] : [true, false]) (on ? withIt : without).push(await round(on));
  }
  const report = (what) => {
    const a = median(without.map((x) => x[what])), b = median(withIt.map((x) => x[what]));
    const ratio = median(withIt.map((x, r) => x[what] / without[r][what]));
    return `${what === 'wall' ? 'wall time' : 'CPU time '} ${a.toFixed(0)} µs without the emitter, ${b.toFixed(0)} µs with it: ` +
           `+${(100 * (ratio - 1)).toFixed(1)} % (median of the rounds' ratios), ${((b - a) / hooks).toFixed(1)} µs a hook`;
  };
  const hooks = 2 + 10 + 4 + 12 + 2;  // invocation, 5 detections, 2 handlers, 6 jobs (start and end each), 2 logger lines
  process.stderr.write(`${rounds} rounds of ${calls} listenTo() calls each way, jobs waiting ${jobMs} ms, ${hooks} hooks a call:\n` +
    `  ${report('wall')}\n  ${report('cpu')}\n  records written ${emitter.stats.records}, lost ${emitter.stats.lostRecords}\n`);
})();

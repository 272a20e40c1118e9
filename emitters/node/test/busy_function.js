'use strict';
// A function that runs listenTo() in a loop, writing through the emitter to the file given,
// until it is killed (or, bounded, after 20 s). The payloads are large, so a kill is likely to
// land while a long line is being written.
const standIn = require('./stand_in');
const { emitterClass } = require('..');

const Emitter = emitterClass(standIn.BasePlugin);
const manager = new standIn.PluginManager();
manager.register(new Emitter({ output: process.argv[2] }));
const big = 'x'.repeat(20000);
const modules = [{ name: 'e', detect: () => true, jobs: [
  { name: 'j', run: async () => { console.log(big); return { big }; } },
  { name: 'k', run: async () => ({ ok: true }) },
] }];
(async () => {
  await manager.initialize();
  const report = standIn.newReport();
  const deadline = Date.now() + 20000;
  const calls = Number(process.argv[3] ?? 100000);  // the calls to make (bounded by the deadline)
  for (let i = 0; i < calls && Date.now() < deadline; i++)
    await standIn.listenTo(manager, report, standIn.hasuraEvent('moves', i), { sourceFunction: 'fn', modules });
})();

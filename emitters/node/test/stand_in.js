'use strict';
// A stand-in for the event detector library (@hopdrive/hasura-event-detector 2.3): the same
// plugin registration and the same hooks, called in the library's order, with its quirks
// (timeouts that let jobs end after the invocation, onError with a string context, a shutdown
// after a call that found no modules, same-named jobs run concurrently). It also reports what
// it ran, which a load of the emitter's output must reproduce exactly. The real library is
// tested in real.test.js; the stand-in serves what the real one cannot provoke on demand (hooks
// called by the test itself, hostile values, a registration without the library installed).

class BasePlugin {
  constructor(config = {}) {
    this.config = config;
    this.enabled = config.enabled !== false;
  }
}

class PluginManager {
  constructor() {
    this.plugins = [];
    this.shutDown = false;
  }
  register(plugin) {
    this.plugins.push(plugin);
  }
  async initialize() {
    for (const p of this.plugins) if (p.enabled && p.initialize) await p.initialize();
  }
  // The library awaits every hook of every enabled plugin in registration order.
  async call(hook, ...args) {
    if (this.shutDown) return;  // serverlessMode: hooks after a shutdown are dropped
    for (const p of this.plugins) if (p.enabled && typeof p[hook] === 'function') await p[hook](...args);
  }
  // The library's plugins are shut down after some calls and initialized again by the next one.
  async shutdown() {
    for (const p of this.plugins) if (p.shutdown) await p.shutdown();
    this.shutDown = true;
  }
  async reinitialize() {
    if (!this.shutDown) return;
    this.shutDown = false;
    await this.initialize();
  }
}

/** What the stand-in ran, in the counts edpipe's dry run reports. */
function newReport() {
  return {
    invocations: 0, invocations_completed: 0, invocations_failed: 0, invocations_without_end: 0,
    event_executions: 0, events_detected: 0, events_handler_failed: 0, events_detection_failed: 0,
    job_executions: 0, jobs_completed: 0, jobs_failed: 0, job_logs: 0,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @typedef {{name: string, run: (options: object) => Promise<unknown>, options?: object}} JobSpec
 * @typedef {{name: string, detect: (ev: object) => Promise<boolean> | boolean, jobs?: JobSpec[], handlerThrows?: boolean}} ModuleSpec
 */

/**
 * listenTo() as the library runs it: every module's detector, then the handler of each
 * detected one, whose jobs run concurrently.
 * @param {PluginManager} manager
 * @param {object} report
 * @param {object} hasuraEvent
 * @param {{modules?: ModuleSpec[], timeoutMs?: number, sourceFunction?: string, correlationId?: string}} options
 */
async function listenTo(manager, report, hasuraEvent, options) {
  const t0 = Date.now();
  const modules = options.modules ?? [];
  report.invocations++;
  await manager.reinitialize();
  hasuraEvent.__correlationId = options.correlationId ?? require('node:crypto').randomUUID();
  await manager.call('onInvocationStart', hasuraEvent, options);
  if (modules.length === 0) {  // the library shuts its plugins down instead of ending the call
    report.invocations_completed++;
    await manager.shutdown();
    return { events: [] };
  }
  const work = (async () => {
    const events = [];
    for (const m of modules) {
      report.event_executions++;
      await manager.call('onEventDetectionStart', m.name, hasuraEvent);
      const d0 = Date.now();
      let detected;
      try {
        detected = Boolean(await m.detect(hasuraEvent));
      } catch (e) {
        report.events_detection_failed++;
        // (the real library swallows a detector's error; a plugin hook can still throw here)
        await manager.call('onError', e, 'event_detection', hasuraEvent.__correlationId);
        events.push({ name: m.name, detected: false, jobs: [] });
        continue;
      }
      await manager.call('onEventDetectionEnd', m.name, detected, hasuraEvent, Date.now() - d0);
      if (!detected) {
        events.push({ name: m.name, detected: false, jobs: [] });
        continue;
      }
      report.events_detected++;
      await manager.call('onEventHandlerStart', m.name, hasuraEvent);
      const h0 = Date.now();
      if (m.handlerThrows) {
        report.events_handler_failed++;
        await manager.call('onError', new Error(`handler of ${m.name} threw`), 'event_handler', hasuraEvent.__correlationId);
        events.push({ name: m.name, detected: false, jobs: [] });  // what the library's response says
        continue;
      }
      const jobs = await Promise.all((m.jobs ?? []).map(async (job) => {
        report.job_executions++;
        const jobOptions = { ...(job.options ?? {}), jobName: job.name, correlationId: options.correlationId,
                             abortSignal: new AbortController().signal, __logger: console };
        await manager.call('onJobStart', job.name, jobOptions, m.name, hasuraEvent);
        const j0 = Date.now();
        const result = { name: job.name, startTime: new Date(j0), completed: false };
        try {
          result.result = await job.run(jobOptions);
          result.completed = true;
          report.jobs_completed++;
        } catch (e) {
          result.error = e;
          report.jobs_failed++;
        }
        result.endTime = new Date();
        result.durationMs = Date.now() - j0;
        await manager.call('onJobEnd', job.name, result, m.name, hasuraEvent, result.durationMs);
        return { ...result, durationMs: result.error ? 0 : result.durationMs };  // the response's quirk
      }));
      await manager.call('onEventHandlerEnd', m.name, jobs, hasuraEvent, Date.now() - h0);
      events.push({ name: m.name, detected: true, jobs });
    }
    return events;
  })();

  let result;
  if (options.timeoutMs !== undefined) {
    const timedOut = await Promise.race([work.then(() => false), sleep(options.timeoutMs).then(() => true)]);
    result = timedOut ? { timedOut: true, events: [] } : { events: await work };
    if (timedOut) work.catch(() => {});  // keeps running: its hooks arrive after the end
  } else {
    result = { events: await work };
  }
  result.durationMs = Date.now() - t0;
  const failed = result.timedOut || result.events.some((e) => e.jobs.some((j) => j.error));
  if (result.timedOut) report.invocations_failed++;
  else report.invocations_completed++;
  await manager.call('onInvocationEnd', hasuraEvent, result, result.durationMs);
  await manager.call('flush');  // as the library does at the end of every call
  return { ...result, failed, work };
}

/** A Hasura event trigger payload for a row of `table`. */
function hasuraEvent(table, id, email = 'driver@example.com') {
  return {
    event: {
      session_variables: { 'x-hasura-role': 'driver', 'x-hasura-user-email': email },
      op: 'UPDATE',
      data: { old: { id, status: 'dispatched' }, new: { id, status: 'pickup successful' } },
    },
    created_at: new Date().toISOString().replace('Z', ''),
    id: require('node:crypto').randomUUID(),
    table: { schema: 'public', name: table },
    trigger: { name: `${table}_events` },
  };
}

module.exports = { BasePlugin, PluginManager, listenTo, newReport, hasuraEvent, sleep };

'use strict';
// edpipe's emitter: a plugin for the event detector library that writes one wire-format v1
// record (one JSON line) per lifecycle hook, to stdout or a file. edpipe loads the lines into
// PostgreSQL later (`netlify logs … | edpipe load -`, `edpipe tail FILE`, archives), so the
// function never waits on a network or a database: a hook costs one JSON.stringify and one
// write call.

const fs = require('node:fs');
const util = require('node:util');
const { randomUUID } = require('node:crypto');
const { AsyncLocalStorage } = require('node:async_hooks');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Keys the library puts into a job's options for its own use: never user data, never written.
const INTERNAL_JOB_OPTION_KEYS = new Set(['abortSignal', '__logger', 'correlationId', 'jobExecutionId', 'jobName']);
const CONSOLE_LEVELS = { debug: 'debug', log: 'info', info: 'info', warn: 'warn', error: 'error' };
const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);
// A write that the pipe refuses for now (EAGAIN) is tried again this many times, then counted
// as lost: a hook must never hang the function.
const MAX_WRITE_ATTEMPTS = 1000;

/** @param {unknown} v */
const isUuid = (v) => typeof v === 'string' && UUID.test(v);

/**
 * JSON text of a value the function handed over: functions, symbols and cycles are left out,
 * BigInts written as strings, so a hostile job option can never throw inside a hook.
 * @param {unknown} value
 */
function safeJson(value) {
  const seen = new WeakSet();
  try {
    return JSON.stringify(value, (key, v) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'function' || typeof v === 'symbol') return undefined;
      if (v && typeof v === 'object') {
        if (seen.has(v)) return undefined;
        seen.add(v);
      }
      return v;
    });
  } catch {
    return undefined;
  }
}

/** @param {unknown} e */
function errorInfo(e) {
  if (e === undefined || e === null) return undefined;
  if (typeof e === 'string') return { message: e };
  const o = /** @type {{message?: unknown, stack?: unknown}} */ (e);
  return {
    message: typeof o.message === 'string' ? o.message : String(e),
    ...(typeof o.stack === 'string' ? { stack: o.stack } : {}),
  };
}

/**
 * A Hasura `created_at` (written without a zone, in UTC) as RFC 3339.
 * @param {unknown} t
 */
function hasuraTime(t) {
  if (typeof t !== 'string') return undefined;
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(t) ? t : `${t}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * Where lines go: stdout (fd 1), a file opened for appending, or any object with write(line).
 * Each line is handed to the kernel in one write call, so a killed process leaves whole lines.
 */
class LineSink {
  /** @param {string | {write(line: string): void}} output */
  constructor(output) {
    this.fd = -1;
    this.custom = null;
    if (output && typeof output === 'object') this.custom = output;
    else if (!output || output === 'stdout' || output === '-') this.fd = 1;
    else if (output === 'stderr') this.fd = 2;
    else {
      this.fd = fs.openSync(output, 'a');
      this.owned = true;
    }
  }
  /** @param {string} line  a whole line, newline included; returns false when it was lost */
  write(line) {
    if (this.custom) {
      this.custom.write(line);
      return true;
    }
    let buf = Buffer.from(line);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && buf.length > 0; ) {
      try {
        const n = fs.writeSync(this.fd, buf);
        buf = buf.subarray(n);  // a pipe may take a long line in parts; the rest follows at once
      } catch (e) {
        if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EAGAIN') throw e;
        attempt++;
      }
    }
    return buf.length === 0;
  }
  close() {
    if (this.owned && this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * @typedef {object} EmitterConfig
 * @property {boolean} [enabled]               false: the plugin does nothing
 * @property {string | {write(line: string): void}} [output]  'stdout' (default), 'stderr', a file path, or a writer
 * @property {boolean} [captureConsoleLog]     console.* inside a job becomes job.log records (default true)
 * @property {boolean} [captureJobOptions]     write job_options (default true; internal keys never)
 * @property {boolean} [captureHasuraPayload]  write source_event_payload (default true)
 * @property {string} [sourceFunction]         used when listenTo's options name none
 */

/**
 * The emitter class on top of the library's BasePlugin (or of a plain base when none is given,
 * e.g. in a process that registers plugins by duck typing).
 * @param {new (config: object) => object} [Base]
 */
function emitterClass(Base = loadBasePlugin()) {
  return class EdpipeEmitter extends Base {
    /** @param {EmitterConfig} [config] */
    constructor(config = {}) {
      super(config);
      this.name = 'EdpipeEmitter';
      this.config = config;
      this.on = config.enabled !== false;
      this.captureConsole = config.captureConsoleLog !== false;
      this.captureJobOptions = config.captureJobOptions !== false;
      this.capturePayload = config.captureHasuraPayload !== false;
      this.sink = this.on ? new LineSink(config.output ?? 'stdout') : null;
      /** @type {WeakMap<object, Invocation>} by the hasuraEvent object every hook of one listenTo() gets */
      this.invocations = new WeakMap();
      /** @type {Set<Invocation>} invocations with an open step, for logs that come without one */
      this.open = new Set();
      /** @type {Map<string, Set<{id: string, inv: Invocation}>>} running jobs by name, for onLog */
      this.runningByName = new Map();
      this.jobContext = new AsyncLocalStorage();
      this.stats = { records: 0, lostRecords: 0, unattributedLogs: 0 };
      this.restoreConsole = null;
    }

    async initialize() {
      if (this.on && this.captureConsole && !this.restoreConsole) this.wrapConsole();
    }

    async onInvocationStart(hasuraEvent, options = {}) {
      if (!this.on) return;
      const inv = new Invocation(isUuid(options.invocationId) ? options.invocationId : randomUUID(),
                                 typeof options.correlationId === 'string' ? options.correlationId : undefined);
      if (hasuraEvent && typeof hasuraEvent === 'object') this.invocations.set(hasuraEvent, inv);
      this.open.add(inv);
      const ev = hasuraEvent && typeof hasuraEvent === 'object' ? hasuraEvent : {};
      const fields = {
        source_function: String(options.sourceFunction ?? this.config.sourceFunction ?? 'unknown'),
        source_system: 'hasura',
        source_table: ev.table?.name,
        source_operation: ev.event?.op,
        source_event_id: isUuid(ev.id) ? ev.id : undefined,
        source_user_email: ev.event?.session_variables?.['x-hasura-user-email'],
        source_user_role: ev.event?.session_variables?.['x-hasura-role'],
        source_job_id: isUuid(options.sourceJobId) ? options.sourceJobId : undefined,
        auto_load_modules: typeof options.autoLoadEventModules === 'boolean' ? options.autoLoadEventModules : undefined,
        event_modules_directory: typeof options.eventModulesDirectory === 'string' ? options.eventModulesDirectory : undefined,
        context: options.context && typeof options.context === 'object' ? options.context : undefined,
      };
      // Without the payload, its time is written here (to the millisecond); with it, edpipe
      // reads it from the payload to the microsecond.
      if (this.capturePayload) fields.source_event_payload = ev;
      else fields.source_event_time = hasuraTime(ev.created_at);
      this.emit('invocation.start', inv, fields);
    }

    async onEventDetectionStart(eventName, hasuraEvent) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const event = inv.startEvent(String(eventName));
      this.emit('event.detection.start', inv, { event_execution_id: event.id, event_name: event.name });
    }

    async onEventDetectionEnd(eventName, detected, hasuraEvent, durationMs) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const event = inv.event(String(eventName));
      event.detectionEnded = true;
      this.emit('event.detection.end', inv, {
        event_execution_id: event.id, event_name: event.name, detected: detected === true, duration_ms: millis(durationMs),
      });
    }

    async onEventHandlerStart(eventName, hasuraEvent) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const event = inv.event(String(eventName));
      event.handlerStarted = true;
      this.emit('event.handler.start', inv, { event_execution_id: event.id, event_name: event.name });
    }

    async onJobStart(jobName, jobOptions, eventName, hasuraEvent) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const job = inv.startJob(String(eventName), String(jobName));
      let running = this.runningByName.get(job.name);
      if (!running) this.runningByName.set(job.name, (running = new Set()));
      running.add(job);
      // The job's own async context, for console lines written inside it: set before the first
      // await, so the job that the library runs after this hook inherits it.
      this.jobContext.enterWith({ inv, job });
      const fields = { job_execution_id: job.id, event_execution_id: job.event.id, job_name: job.name };
      if (jobOptions && typeof jobOptions === 'object' && typeof jobOptions.jobFunctionName === 'string')
        fields.job_function_name = jobOptions.jobFunctionName;
      if (this.captureJobOptions && jobOptions && typeof jobOptions === 'object') {
        const user = {};
        for (const [k, v] of Object.entries(jobOptions)) if (!INTERNAL_JOB_OPTION_KEYS.has(k)) user[k] = v;
        fields.job_options = rawJson(safeJson(user));
      }
      this.emit('job.start', inv, fields);
    }

    async onJobEnd(jobName, result, eventName, hasuraEvent, durationMs) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const job = inv.endJob(String(eventName), String(jobName));
      const running = this.runningByName.get(job.name);
      if (running && running.delete(job) && running.size === 0) this.runningByName.delete(job.name);
      const r = result && typeof result === 'object' ? result : {};
      const failed = r.error !== undefined && r.error !== null || r.completed === false;
      const fields = {
        job_execution_id: job.id, event_execution_id: job.event.id, job_name: job.name,
        status: failed ? 'failed' : 'completed',
        duration_ms: millis(durationMs ?? r.durationMs),
      };
      if (r.result !== undefined) fields.result = rawJson(safeJson(r.result));
      if (failed) fields.error = errorInfo(r.error ?? 'job did not complete');
      this.emit('job.end', inv, fields);
      this.closeIfDone(inv);
    }

    async onEventHandlerEnd(eventName, jobResults, hasuraEvent, durationMs) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const event = inv.event(String(eventName));
      event.handlerEnded = true;
      this.emit('event.handler.end', inv, { event_execution_id: event.id, event_name: event.name, duration_ms: millis(durationMs) });
    }

    async onInvocationEnd(hasuraEvent, result, durationMs) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const r = result && typeof result === 'object' ? result : {};
      const fields = { status: 'completed', duration_ms: millis(durationMs ?? r.durationMs) };
      if (r.error) Object.assign(fields, { status: 'failed', error: errorInfo(r.error) });
      else if (r.timedOut) Object.assign(fields, { status: 'failed', error: { message: 'listenTo timed out' } });
      inv.ended = true;
      this.emit('invocation.end', inv, fields);
      this.closeIfDone(inv);
    }

    // A detector or handler that throws reaches plugins here. The step it belongs to is the
    // open one of the event the context names: a detection not yet ended, else the handler.
    async onError(error, context, correlationId) {
      const c = context && typeof context === 'object' ? context : {};
      const inv = c.hasuraEvent ? this.invocationOf(c.hasuraEvent) : this.onlyOpen(correlationId);
      if (!inv || typeof c.eventName !== 'string') return;
      const event = inv.event(c.eventName);
      const err = errorInfo(error) ?? { message: 'unknown error' };
      if (!event.detectionEnded) {
        event.detectionEnded = true;
        this.emit('event.detection.end', inv, { event_execution_id: event.id, event_name: event.name, detected: false, error: err });
      } else {
        event.handlerEnded = true;
        this.emit('event.handler.end', inv, { event_execution_id: event.id, event_name: event.name, error: err });
      }
    }

    // A log line the library hands over. It names a job but no invocation: the line is the job's
    // only when exactly one running job of that name is under the correlation id; with no job
    // name, the invocation's when exactly one is open there. Anything else is counted, never
    // guessed.
    async onLog(level, message, data, jobName, correlationId) {
      if (!this.on) return;
      const anyCorrelation = correlationId === undefined || correlationId === null;
      const matches = (i) => anyCorrelation || i.correlationId === correlationId;
      let inv, job;
      if (jobName) {
        for (const j of this.runningByName.get(String(jobName)) ?? []) {
          if (!matches(j.inv)) continue;
          if (job) {  // a second one: ambiguous
            inv = undefined;
            break;
          }
          [inv, job] = [j.inv, j];
        }
      } else {
        const candidates = [...this.open].filter(matches);
        if (candidates.length === 1) inv = candidates[0];
      }
      if (!inv) {
        this.stats.unattributedLogs++;
        return;
      }
      this.log(inv, job, level, message, data, 'onLog');
    }

    async flush() {}  // every record is written when its hook runs

    async shutdown() {
      if (this.restoreConsole) this.restoreConsole();
      this.restoreConsole = null;
      if (this.sink) this.sink.close();
    }

    // --- internals ---

    invocationOf(hasuraEvent) {
      if (!this.on || !hasuraEvent || typeof hasuraEvent !== 'object') return undefined;
      return this.invocations.get(hasuraEvent);
    }

    onlyOpen(correlationId) {
      const c = [...this.open].filter((i) => i.correlationId === correlationId);
      return c.length === 1 ? c[0] : undefined;
    }

    // An invocation stays open for logs until it has ended and its last job has ended.
    closeIfDone(inv) {
      if (inv.ended && inv.running === 0) this.open.delete(inv);
    }

    log(inv, job, level, message, data, source) {
      const fields = {
        job_execution_id: job && !job.ended ? job.id : undefined,
        level: LOG_LEVELS.has(level) ? level : 'info',
        message: typeof message === 'string' ? message : util.inspect(message),
        data: data === undefined ? undefined : rawJson(safeJson(data)),
        source,
        seq: inv.seq++,
      };
      this.emit('job.log', inv, fields);
    }

    wrapConsole() {
      const originals = {};
      for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
        const original = console[method];
        originals[method] = original;
        const emitter = this;
        console[method] = function (...args) {
          const ctx = emitter.jobContext.getStore();
          if (ctx && emitter.on) {
            try {
              emitter.log(ctx.inv, ctx.job, level, util.format(...args), undefined, 'console');
            } catch {
              emitter.stats.lostRecords++;
            }
          }
          return original.apply(this, args);
        };
      }
      this.restoreConsole = () => Object.assign(console, originals);
    }

    emit(type, inv, fields) {
      let line = `{"type":"${type}","ts":"${new Date().toISOString()}","invocation_id":"${inv.id}"`;
      if (inv.correlationId !== undefined) line += `,"correlation_id":${JSON.stringify(inv.correlationId)}`;
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        const text = v instanceof RawJson ? v.text : safeJson(v);
        if (text !== undefined) line += `,"${k}":${text}`;
      }
      line += '}\n';
      try {
        if (this.sink.write(line)) this.stats.records++;
        else this.stats.lostRecords++;
      } catch {
        this.stats.lostRecords++;  // a full disk or a closed pipe must not fail the function
      }
    }
  };
}

// JSON text already made (by safeJson), written as is.
class RawJson {
  constructor(text) {
    this.text = text;
  }
}
const rawJson = (text) => (text === undefined ? undefined : new RawJson(text));

/** @param {unknown} ms */
function millis(ms) {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}

// One listenTo() call: its ids and what is running, so each hook finds the ids of its step.
class Invocation {
  constructor(id, correlationId) {
    this.id = id;
    this.correlationId = correlationId;
    this.seq = 0;
    this.ended = false;
    this.running = 0;
    /** @type {Map<string, EventExecution>} */
    this.events = new Map();
  }
  startEvent(name) {
    const e = new EventExecution(name);
    this.events.set(name, e);
    return e;
  }
  // The event of a hook whose detection start was not seen (a plugin registered late): a new id.
  event(name) {
    return this.events.get(name) ?? this.startEvent(name);
  }
  startJob(eventName, jobName) {
    const event = this.event(eventName);
    const job = { id: randomUUID(), name: jobName, event, inv: this, ended: false };
    // Two jobs of one name in one handler are told apart by order only: ends match starts in
    // the order they came (the library gives no per-run handle).
    const queue = event.running.get(jobName) ?? [];
    queue.push(job);
    event.running.set(jobName, queue);
    this.running++;
    return job;
  }
  endJob(eventName, jobName) {
    const event = this.event(eventName);
    const job = event.running.get(jobName)?.shift();
    if (!job) return { id: randomUUID(), name: jobName, event, inv: this, ended: true };  // its start was not seen
    job.ended = true;
    this.running--;
    return job;
  }
}

class EventExecution {
  constructor(name) {
    this.id = randomUUID();
    this.name = name;
    this.detectionEnded = false;
    this.handlerStarted = false;
    this.handlerEnded = false;
    /** @type {Map<string, Array<{id: string, name: string, ended: boolean}>>} */
    this.running = new Map();
  }
}

// The library's BasePlugin when it is installed (a peer dependency), else a plain base.
function loadBasePlugin() {
  try {
    return require('@hopdrive/hasura-event-detector').BasePlugin ?? PlainBase;
  } catch {
    return PlainBase;
  }
}
class PlainBase {
  constructor(config = {}) {
    this.config = config;
    this.enabled = config.enabled !== false;
  }
}

module.exports = { EdpipeEmitter: emitterClass(), emitterClass, safeJson, LineSink };

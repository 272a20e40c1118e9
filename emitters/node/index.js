'use strict';
// edpipe's emitter: a plugin for the event detector library that writes one wire-format v1
// record (one JSON line) per lifecycle hook, to stdout or a file. edpipe loads the lines into
// PostgreSQL later (`netlify logs … | edpipe load -`, `edpipe tail FILE`, archives), so the
// function never waits on a network or a database: a hook costs one JSON.stringify and one
// write call.

const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { randomFillSync } = require('node:crypto');
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

// Ids are UUIDv7 (RFC 9562): the time in ms in the first 48 bits, then 74 random bits. A day's
// invocations, events and jobs are then neighbours in the database's B-trees, whose inserts stay
// at the right edge instead of touching pages all over ever larger indexes. Random bytes are
// drawn a pool at a time (one system call per 409 ids).
const idPool = Buffer.alloc(4096);
let idPoolAt = idPool.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function uuidv7() {
  if (idPoolAt + 10 > idPool.length) {
    randomFillSync(idPool);
    idPoolAt = 0;
  }
  const r = idPool;
  const at = idPoolAt;
  idPoolAt += 10;
  const ms = Date.now();
  const hi = Math.floor(ms / 0x1000000), lo = ms % 0x1000000;  // 24 + 24 bits
  const t = hi.toString(16).padStart(6, '0') + lo.toString(16).padStart(6, '0');
  return t.slice(0, 8) + '-' + t.slice(8, 12) + '-7' + HEX[r[at] & 0x0f].slice(1) + HEX[r[at + 1]] + '-' +
         HEX[(r[at + 2] & 0x3f) | 0x80] + HEX[r[at + 3]] + '-' + HEX[r[at + 4]] + HEX[r[at + 5]] + HEX[r[at + 6]] +
         HEX[r[at + 7]] + HEX[r[at + 8]] + HEX[r[at + 9]];
}

/**
 * JSON text of a value the function handed over: functions, symbols and cycles are left out,
 * BigInts written as strings, so a hostile job option can never throw inside a hook. The
 * common value takes JSON.stringify's fast path; only one it refuses takes the careful one.
 * @param {unknown} value
 */
function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {}  // a cycle, a BigInt, a getter that throws
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

/**
 * JSON text of a job's options without the library's own keys, member by member (no copy).
 * @param {object} options
 */
function userOptionsJson(options) {
  let text = '';
  for (const k in options) {
    if (!Object.prototype.hasOwnProperty.call(options, k) || INTERNAL_JOB_OPTION_KEYS.has(k)) continue;
    const v = safeJson(options[k]);
    if (v !== undefined) text += `${text ? ',' : ''}${JSON.stringify(k)}:${v}`;
  }
  return `{${text}}`;
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

// Lines wait for the end of the event-loop turn (or until this much is waiting), then go to
// the kernel in one write: a listenTo() call's records cost a few write calls, not one each.
const BATCH_BYTES = 64 * 1024;
/** @type {Set<LineSink>} sinks with lines waiting, written when the process exits normally */
const waitingSinks = new Set();
let exitHookInstalled = false;

/**
 * Where lines go: stdout (fd 1), a file opened for appending, or any object with write(line).
 * Lines are written in batches of whole lines, each batch in one write call (a pipe that takes
 * part of it gets the rest at once), so a killed process leaves whole lines. What waits is
 * written at the end of the turn, by flush() (the library calls it, or shutdown(), at the end of
 * every listenTo()), and at exit; a SIGKILL loses at most the current turn's lines.
 */
class LineSink {
  /**
   * @param {string | {write(line: string): void}} output
   * @param {{records: number, lostRecords: number}} stats  counts lines written and lost
   */
  constructor(output, stats) {
    this.fd = -1;
    this.custom = null;
    this.path = null;
    this.stats = stats;
    this.batch = null;  // encoded once, as the line comes: no string to join or flatten later
    this.used = 0;
    this.waitingLines = 0;
    this.flushQueued = false;
    this.flush = this.flush.bind(this);
    if (output && typeof output === 'object') this.custom = output;
    else if (!output || output === 'stdout' || output === '-') this.fd = 1;
    else if (output === 'stderr') this.fd = 2;
    else {
      this.path = output;
      this.fd = LineSink.openForAppend(output);
    }
  }
  /**
   * Opens a file to append lines to. A process killed inside a write can leave the file's last
   * line cut short (the kernel stops a write at a page when the kill comes); the first line
   * written after it would then run on from that fragment, and both be lost as one bad line.
   * A file that does not end with a newline gets one first: the fragment stays one line (which
   * edpipe rejects and reports), and every line after it is whole. (With other writers at work,
   * the worst case is an empty line.)
   * @param {string} file
   */
  static openForAppend(file) {
    const fd = fs.openSync(file, 'a+');
    try {
      const size = fs.fstatSync(fd).size;
      const last = Buffer.alloc(1);
      if (size > 0 && fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) fs.writeSync(fd, '\n');
    } catch {}  // unreadable (a FIFO, a device): nothing to seal
    return fd;
  }
  /** @param {string} line  a whole line, newline included */
  write(line) {
    if (this.custom) {
      this.custom.write(line);
      this.stats.records++;
      return;
    }
    if (this.batch === null) this.batch = Buffer.allocUnsafe(BATCH_BYTES);
    if (BATCH_BYTES - this.used < 3 * line.length) {  // (UTF-8 takes at most 3 bytes per UTF-16 unit)
      this.flush();
      if (BATCH_BYTES < 3 * line.length) {  // a line longer than a batch goes alone
        this.writeAll(Buffer.from(line), 1);
        return;
      }
    }
    this.used += this.batch.write(line, this.used);
    this.waitingLines++;
    if (!this.flushQueued) {
      this.flushQueued = true;
      waitingSinks.add(this);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', () => waitingSinks.forEach((s) => s.flush()));
      }
      setImmediate(this.flush);
    }
  }
  flush() {
    this.flushQueued = false;
    waitingSinks.delete(this);
    if (this.waitingLines === 0) return;
    const lines = this.waitingLines;
    const bytes = this.batch.subarray(0, this.used);
    this.waitingLines = 0;
    this.used = 0;
    this.writeAll(bytes, lines);
  }
  /** @param {Buffer} bytes  whole lines @param {number} lines  how many */
  writeAll(bytes, lines) {
    try {
      if (this.fd < 0) this.fd = LineSink.openForAppend(this.path);  // after close(): the next batch writes on
      let at = 0;
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && at < bytes.length; ) {
        try {
          at += fs.writeSync(this.fd, bytes, at, bytes.length - at);  // a pipe may take part: the rest follows at once
        } catch (e) {
          if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EAGAIN') throw e;
          attempt++;
        }
      }
      if (at === bytes.length) this.stats.records += lines;
      else this.stats.lostRecords += lines;
    } catch {
      this.stats.lostRecords += lines;  // a full disk or a closed pipe must not fail the function
    }
  }
  // Writes what waits and closes a file it opened (stdout and stderr stay open); a later line
  // opens it again.
  close() {
    this.flush();
    if (this.path !== null && this.fd >= 0) fs.closeSync(this.fd);
    if (this.path !== null) this.fd = -1;
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

// The lifecycle hooks of the library's plugins.
const HOOKS = ['onInvocationStart', 'onInvocationEnd', 'onEventDetectionStart', 'onEventDetectionEnd',
               'onEventHandlerStart', 'onEventHandlerEnd', 'onJobStart', 'onJobEnd', 'onError'];
async function dispatchedLog(...args) {
  this.onLogNow(...args);
}

// Invocations kept open for log lines at most: hooks the library never delivers (it drops them
// while its plugins are shut down) must not grow a long-lived process without bound.
const MAX_OPEN_INVOCATIONS = 10000;

/**
 * The emitter class on top of the library's BasePlugin (or of a plain base when none is given,
 * e.g. in a process that registers plugins by duck typing).
 * @param {new (config: object) => object} [Base]
 */
function emitterClass(Base = loadBasePlugin()) {
  const Emitter = class EdpipeEmitter extends Base {
    /** @param {EmitterConfig} [config] */
    constructor(config = {}) {
      super(config);
      this.name = 'EdpipeEmitter';
      this.config = config;
      this.on = config.enabled !== false;
      this.captureConsole = config.captureConsoleLog !== false;
      this.captureJobOptions = config.captureJobOptions !== false;
      this.capturePayload = config.captureHasuraPayload !== false;
      /** @type {WeakMap<object, Invocation>} by the hasuraEvent object every hook of one listenTo() gets */
      this.invocations = new WeakMap();
      /** @type {Set<Invocation>} invocations with an open step, for logs that come without one */
      this.open = new Set();
      /** @type {Map<string, Set<JobExecution>>} running jobs by name, for onLog lines outside any scope */
      this.runningByName = new Map();
      /** @type {AsyncLocalStorage<Scope>} the step whose code is running */
      this.scopes = new AsyncLocalStorage();
      // Whether the library prints its log lines (listenTo's logToConsole, which sticks)
      this.libraryPrints = true;
      this.stats = { records: 0, lostRecords: 0, unattributedLogs: 0, libraryLogs: 0, hookErrors: 0 };
      this.direct = false;
      this.sink = this.on ? new LineSink(config.output ?? 'stdout', this.stats) : null;
      this.restoreConsole = null;
    }

    // PluginManager.initialize() hands each plugin its manager. The library's logger passes its
    // lines to plugins (onLog) only once listenTo() has given it the manager, which it skips
    // when the process initialized the plugins itself; the logger then prints every line twice
    // and no plugin sees them. The emitter gives the logger the manager in that case.
    setPluginManager(manager) {
      const logger = loggerBeside(Base);
      if (logger && typeof logger.getPluginManager === 'function' && !logger.getPluginManager())
        logger.setPluginManager(manager);
      this.takeHooksDirectly(manager);
    }

    // The library dispatches a hook to each plugin through promises (the hook's, a catch, an
    // allSettled, an await: about five a hook) even when the hook has nothing to wait for. The
    // emitter's hooks never wait, so it takes them as the manager's callHook runs, before that
    // dispatch, and stands aside from it (its hooks read as absent to the manager): a plugin that
    // costs the library nothing to call. A manager without callHook dispatches as usual.
    takeHooksDirectly(manager) {
      if (this.direct || typeof manager?.callHook !== 'function') return;
      const emitter = this;
      const dispatch = manager.callHook;
      manager.callHook = function (hookName, ...args) {
        if (emitter.enabled && emitter.on && this.initialized !== false) {
          try {
            const now = DIRECT[hookName];
            if (now !== undefined && (hookName !== 'onLog' || emitter.wantsLibraryLines)) now.apply(emitter, args);
          } catch {
            emitter.stats.hookErrors++;  // a hook must never fail the function
          }
        }
        return dispatch.call(this, hookName, ...args);
      };
      for (const hook of [...HOOKS, 'onLog']) Object.defineProperty(this, hook, { value: undefined, writable: true, configurable: true });
      this.direct = true;
    }

    async initialize() {
      if (this.on && this.captureConsole && !this.restoreConsole) this.wrapConsole();
    }

    onInvocationStartNow(hasuraEvent, options = {}) {
      if (!this.on) return;
      const ev = hasuraEvent && typeof hasuraEvent === 'object' ? hasuraEvent : {};
      // The library keeps the correlation id it uses (the caller's when it is a UUID, else one it
      // generates) on the Hasura event.
      const correlationId = typeof ev.__correlationId === 'string' ? ev.__correlationId
        : typeof options.correlationId === 'string' ? options.correlationId : undefined;
      const inv = new Invocation(isUuid(options.invocationId) ? options.invocationId : uuidv7(), correlationId);
      if (typeof options.logToConsole === 'boolean') this.libraryPrints = options.logToConsole;
      if (ev === hasuraEvent) this.invocations.set(hasuraEvent, inv);
      this.keepOpen(inv);
      const fields = {
        source_function: String(options.sourceFunction ?? this.config.sourceFunction ?? 'unknown'),
        source_system: 'hasura',
        source_table: ev.table?.name,
        source_operation: ev.event?.op,
        source_event_id: isUuid(ev.id) ? ev.id : undefined,
        source_user_email: ev.event?.session_variables?.['x-hasura-user-email'],
        source_user_role: ev.event?.session_variables?.['x-hasura-role'],
        source_job_id: sourceJobOf(ev, options),
        auto_load_modules: typeof options.autoLoadEventModules === 'boolean' ? options.autoLoadEventModules : undefined,
        event_modules_directory: typeof options.eventModulesDirectory === 'string' ? options.eventModulesDirectory : undefined,
        context: options.context && typeof options.context === 'object' ? options.context : undefined,
      };
      // Without the payload, its time is written here (to the millisecond); with it, edpipe
      // reads it from the payload to the microsecond.
      if (this.capturePayload) fields.source_event_payload = ev;
      else fields.source_event_time = hasuraTime(ev.created_at);
      this.emit('invocation.start', inv, fields);
      this.enter(inv);
    }

    onEventDetectionStartNow(eventName, hasuraEvent) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const event = inv.startEvent(String(eventName));
      this.emit('event.detection.start', inv, { event_execution_id: event.id, event_name: event.name });
      this.enter(inv, event);
    }

    onEventDetectionEndNow(eventName, detected, hasuraEvent, durationMs) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const event = inv.event(String(eventName));
      event.detectionEnded = true;
      event.detected = detected === true;
      this.emit('event.detection.end', inv, {
        event_execution_id: event.id, event_name: event.name, detected: event.detected, duration_ms: millis(durationMs),
        error: event.detected ? undefined : event.detectorError,
      });
    }

    onEventHandlerStartNow(eventName, hasuraEvent) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const event = inv.event(String(eventName));
      event.handlerStarted = true;
      this.emit('event.handler.start', inv, { event_execution_id: event.id, event_name: event.name });
      if (this.scope()?.event !== event) this.enter(inv, event);
    }

    onJobStartNow(jobName, jobOptions, eventName, hasuraEvent) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const options = jobOptions && typeof jobOptions === 'object' ? jobOptions : undefined;
      // The job's execution id, handed to the job in its options (as the library's own
      // observability plugin does): a job that causes another invocation passes it on, in a
      // tracking token or as listenTo's sourceJobId.
      const given = options?.jobExecutionId;
      const job = inv.startJob(inv.event(String(eventName)), String(jobName),
                               isUuid(given) && !inv.jobIds.has(given) ? given : uuidv7());
      if (options && options.jobExecutionId !== job.id) {
        try {
          options.jobExecutionId = job.id;
        } catch {}  // frozen options: the job goes without
      }
      let running = this.runningByName.get(job.name);
      if (!running) this.runningByName.set(job.name, (running = new Set()));
      running.add(job);
      const fields = { job_execution_id: job.id, event_execution_id: job.event.id, job_name: job.name };
      if (typeof options?.jobFunctionName === 'string') fields.job_function_name = options.jobFunctionName;
      if (this.captureJobOptions && options) fields.job_options = rawJson(userOptionsJson(options));
      this.emit('job.start', inv, fields);
      this.enter(inv, job.event, job);
    }

    onJobEndNow(jobName, result, eventName, hasuraEvent, durationMs) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const name = String(jobName);
      // The end runs in the job's own async context, which names the job even when another job
      // of that name runs beside it; by order only when the context is lost.
      const own = this.runningJob();
      const job = own && own.inv === inv && own.name === name ? inv.endJob(own) : inv.endJobByOrder(inv.event(String(eventName)), name);
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

    onEventHandlerEndNow(eventName, jobResults, hasuraEvent, durationMs) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      const event = inv.event(String(eventName));
      event.handlerEnded = true;
      this.emit('event.handler.end', inv, { event_execution_id: event.id, event_name: event.name, duration_ms: millis(durationMs) });
    }

    onInvocationEndNow(hasuraEvent, result, durationMs) {
      const inv = this.invocationOf(hasuraEvent);
      if (!inv) return;
      if (inv.ended) return;  // after a timeout the library ends the call a second time, when its work is done
      const r = result && typeof result === 'object' ? result : {};
      const fields = { status: 'completed', duration_ms: millis(durationMs ?? r.durationMs) };
      if (r.error) Object.assign(fields, { status: 'failed', error: errorInfo(r.error) });
      else if (r.timedOut) Object.assign(fields, { status: 'failed', error: { message: 'listenTo timed out' } });
      this.endInvocation(inv, fields);
    }

    // A handler that throws reaches plugins here, twice: as 'event_handler', then (its
    // rejection) as 'event_detection'. The context names a step, not an event: the event is
    // the one whose code was running, from the async context (else the one event of the
    // correlation id's invocation in that step). A job's error ('job') was written with its end.
    onErrorNow(error, context, correlationId) {
      if (!this.on || (context !== 'event_handler' && context !== 'event_detection')) return;
      let inv, event;
      const scope = this.scope();
      if (scope?.event && (!correlationId || scope.inv.correlationId === correlationId)) {
        [inv, event] = [scope.inv, scope.event];
      } else {
        inv = this.onlyOpen(correlationId);
        const inStep = inv && [...inv.events.values()].filter((e) => context === 'event_handler'
          ? e.handlerStarted && !e.handlerEnded : !e.detectionEnded);
        if (inStep?.length === 1) event = inStep[0];
      }
      if (!inv || !event) return;
      const err = errorInfo(error) ?? { message: 'unknown error' };
      if (!event.detectionEnded) {
        event.detectionEnded = true;
        this.emit('event.detection.end', inv, { event_execution_id: event.id, event_name: event.name, detected: false, error: err });
      } else if (event.handlerStarted && !event.handlerEnded) {
        event.handlerEnded = true;
        this.emit('event.handler.end', inv, { event_execution_id: event.id, event_name: event.name, error: err });
      }
    }

    // The library's logger prints each line (console.log), then hands it to every plugin that
    // has an onLog. While it prints, the console wrapper sees its lines already (a job's logger
    // lines in the job's context), so the emitter takes no onLog: each line is written once,
    // and the library does not dispatch its dozens of own lines a call to this plugin. Without
    // console capture, or once a call asks the library not to print (logToConsole: false),
    // onLog is where its lines come from.
    get onLog() {
      return this.wantsLibraryLines ? dispatchedLog : undefined;
    }

    get wantsLibraryLines() {
      return !(this.captureConsole && this.libraryPrints);
    }

    // Lines of the library itself (job 'system') belong to no job. A job's logger line goes to
    // the job whose code is running; outside any job's context, to the one running job of that
    // name under the correlation id, if exactly one; else it is counted.
    onLogNow(level, message, data, jobName, correlationId) {
      if (!this.on) return;
      if (!jobName || jobName === 'system') {
        this.stats.libraryLogs++;
        this.noteDetectorError(message, data);
        return;
      }
      const name = String(jobName);
      const sameCorrelation = (inv) => !correlationId || inv.correlationId === correlationId;
      let job = this.runningJob();
      if (!job || job.name !== name || !sameCorrelation(job.inv)) {
        job = undefined;
        for (const j of this.runningByName.get(name) ?? []) {
          if (!sameCorrelation(j.inv)) continue;
          if (job) {  // a second one: ambiguous
            job = undefined;
            break;
          }
          job = j;
        }
      }
      if (!job) {
        this.stats.unattributedLogs++;
        return;
      }
      let extra = data;
      if (data && typeof data === 'object' && data.source === 'internal_logger') {
        extra = {};
        if (Array.isArray(data.originalArgs) && data.originalArgs.length > 0) extra.args = data.originalArgs;
        if (data.error) extra.error = data.error;
        if (Object.keys(extra).length === 0) extra = undefined;
      }
      this.log(job.inv, job, level, message, extra, 'logger');
    }

    async flush() {
      this.sink?.flush();
    }

    // The library shuts its plugins down after a call that found no event modules and after
    // every call in serverlessMode, and initializes them again on the next call: nothing is
    // closed for good. A call that found no modules ends here (the library calls no
    // onInvocationEnd for it): its invocation is the one whose context this runs in.
    async shutdown() {
      const scope = this.scope();
      if (scope && !scope.inv.ended && scope.inv.events.size === 0)
        this.endInvocation(scope.inv, { status: 'completed', duration_ms: Date.now() - scope.inv.startedAt });
      if (this.open.size > 0) {  // calls still running keep the console and the file
        this.sink?.flush();
        return;
      }
      if (this.restoreConsole) this.restoreConsole();
      this.restoreConsole = null;
      this.sink?.close();
    }

    // Stops tracking async context until the next hook needs it (with no AsyncLocalStorage in
    // use, Node stops tracking promises).
    release() {
      this.scopes.disable();
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

    keepOpen(inv) {
      this.open.add(inv);
      if (this.open.size <= MAX_OPEN_INVOCATIONS) return;
      const oldest = this.open.values().next().value;
      this.open.delete(oldest);
      for (const job of oldest.runningJobs()) this.runningByName.get(job.name)?.delete(job);
    }

    endInvocation(inv, fields) {
      inv.ended = true;
      this.emit('invocation.end', inv, fields);
      this.closeIfDone(inv);
    }

    // An invocation stays open for logs until it has ended and its last job has ended.
    closeIfDone(inv) {
      if (inv.ended && inv.running === 0) this.open.delete(inv);
    }

    // Each step's code runs in an async context that carries its scope. A hook enters it for
    // the caller: the library awaits the hook right after, so the step's code inherits it.
    // The caller's own synchronous code after the hook (the next job's start, the lines the
    // library prints on the way) is not the step's: a scope counts only from the next
    // microtask on. A step that has ended no longer counts either, which also bounds the chain.
    enter(inv, event, job) {
      let prev = this.scopes.getStore();
      while (prev && (prev.entering || prev.closed)) prev = prev.prev;
      this.scopes.enterWith(new Scope(inv, event, job, prev));
    }

    /** @returns {Scope | undefined} the scope of the code running now */
    scope() {
      let s = this.scopes.getStore();
      while (s && s.entering) s = s.prev;
      return s;
    }

    /** @returns {JobExecution | undefined} the job whose code is running now, if it has not ended */
    runningJob() {
      let s = this.scope();
      while (s && s.job && s.job.ended) s = s.prev;
      return s?.job;
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

    // A console line: written when a job's code printed it. A line the library prints while a
    // detector runs may say that the detector threw (the library swallows the error).
    captureConsoleLine(level, args) {
      const job = this.runningJob();
      if (job) {
        this.log(job.inv, job, level, util.format(...args), undefined, 'console');
        return;
      }
      if (typeof args[0] === 'string') this.noteDetectorLine(args[0]);
    }

    // The same, from a line the library handed to onLog.
    noteDetectorError(message, data) {
      if (data && typeof data === 'object' && data.logType === 'detector' && typeof message === 'string') this.noteDetectorLine(message);
    }

    // The library's line "[event] Error detecting event <message>", printed while that event's
    // detection runs: the message is the detector's error.
    noteDetectorLine(text) {
      const event = this.scope()?.event;
      const prefix = `[${event?.name}] Error detecting event`;
      if (!event || event.detectionEnded || !text.startsWith(prefix)) return;
      event.detectorError = { message: text.slice(prefix.length).trim() || text };
    }

    wrapConsole() {
      const originals = {};
      for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
        const original = console[method];
        originals[method] = original;
        const emitter = this;
        console[method] = function (...args) {
          if (emitter.on) {
            try {
              emitter.captureConsoleLine(level, args);
            } catch {
              emitter.stats.lostRecords++;
            }
          }
          return original.apply(this, args);
        };
      }
      this.restoreConsole = () => Object.assign(console, originals);
    }

    emit(type, inv, fields, ts = isoNow()) {
      let line = `{"type":"${type}","ts":"${ts}","invocation_id":"${inv.id}"${inv.correlationJson}`;
      for (const k in fields) {
        const v = fields[k];
        if (v === undefined) continue;
        const text = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'boolean' ? String(v) : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null')
          : v instanceof RawJson ? v.text : safeJson(v);
        if (text !== undefined) line += `,"${k}":${text}`;
      }
      try {
        this.sink.write(`${line}}\n`);
      } catch {
        this.stats.lostRecords++;  // a writer that throws must not fail the function
      }
    }
  };
  // The hooks the library awaits: each does its work at once (…Now) and returns.
  const DIRECT = { __proto__: null, onLog: Emitter.prototype.onLogNow };
  for (const hook of HOOKS) {
    const now = Emitter.prototype[`${hook}Now`];
    DIRECT[hook] = now;
    Object.defineProperty(Emitter.prototype, hook, {
      async value(...args) {
        now.apply(this, args);
      },
      writable: true, configurable: true,
    });
  }
  return Emitter;
}

// The time now as RFC 3339 in UTC, to the millisecond: made once per millisecond, as a call's
// records mostly share one.
let isoAt = -1;
let isoText = '';
function isoNow() {
  const ms = Date.now();
  if (ms !== isoAt) [isoAt, isoText] = [ms, new Date(ms).toISOString()];
  return isoText;
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

/**
 * The job execution that caused this call: listenTo's `sourceJobId`; else what the library's
 * TrackingTokenExtractionPlugin read from the row (`hasuraEvent.__sourceJobId`); else the
 * tracking token itself, `source|correlationId|jobExecutionId`, in the row's `updated_by`.
 */
function sourceJobOf(ev, options) {
  if (isUuid(options.sourceJobId)) return options.sourceJobId;
  if (isUuid(ev.__sourceJobId)) return ev.__sourceJobId;
  const row = ev.event?.data?.new;
  const token = row && typeof row === 'object' ? row.updated_by ?? row.updatedby : undefined;
  if (typeof token !== 'string') return undefined;
  const parts = token.split('|');
  return parts.length === 3 && isUuid(parts[1]) && isUuid(parts[2]) ? parts[2] : undefined;
}

// Scopes entered in one synchronous run of code count from the next microtask on: one
// microtask per run ends them all (a generation number), not one per scope.
let generation = 0;
let generationEnding = false;
function endGenerationSoon() {
  if (generationEnding) return;
  generationEnding = true;
  queueMicrotask(() => {
    generation++;
    generationEnding = false;
  });
}

// What a hook's async context says is running: an invocation, one of its events, one of its jobs.
class Scope {
  constructor(inv, event, job, prev) {
    this.inv = inv;
    this.event = event;
    this.job = job;
    this.prev = prev;
    this.generation = generation;
    endGenerationSoon();
  }
  // Entered by a hook in the code running now: the caller's code, not yet the step's own.
  get entering() {
    return this.generation === generation;
  }
  get closed() {
    if (this.job) return this.job.ended;
    if (this.event) return this.event.handlerEnded || (this.event.detectionEnded && !this.event.detected);
    return this.inv.ended;
  }
}

// One listenTo() call: its ids and what is running, so each hook finds the ids of its step.
class Invocation {
  constructor(id, correlationId) {
    this.id = id;
    this.correlationId = correlationId;
    this.correlationJson = correlationId === undefined ? '' : `,"correlation_id":${JSON.stringify(correlationId)}`;
    this.startedAt = Date.now();
    this.seq = 0;
    this.ended = false;
    this.running = 0;
    /** @type {Map<string, EventExecution>} */
    this.events = new Map();
    /** @type {Set<string>} */
    this.jobIds = new Set();
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
  startJob(event, name, id) {
    const job = new JobExecution(id, name, event, this);
    this.jobIds.add(id);
    const queue = event.running.get(name) ?? [];
    queue.push(job);
    event.running.set(name, queue);
    this.running++;
    return job;
  }
  endJob(job) {
    const queue = job.event.running.get(job.name) ?? [];
    const at = queue.indexOf(job);
    if (at >= 0) queue.splice(at, 1);
    if (queue.length === 0) job.event.running.delete(job.name);
    job.ended = true;
    this.running--;
    return job;
  }
  // Without the job's context, ends match starts in the order they came.
  endJobByOrder(event, name) {
    const job = event.running.get(name)?.[0];
    if (!job) {  // its start was not seen
      const unseen = new JobExecution(uuidv7(), name, event, this);
      unseen.ended = true;
      return unseen;
    }
    return this.endJob(job);
  }
  *runningJobs() {
    for (const e of this.events.values()) for (const q of e.running.values()) yield* q;
  }
}

class EventExecution {
  constructor(name) {
    this.id = uuidv7();
    this.name = name;
    this.detected = false;
    this.detectionEnded = false;
    this.handlerStarted = false;
    this.handlerEnded = false;
    /** @type {{message: string} | undefined} what a detector that threw said, from the library's log line */
    this.detectorError = undefined;
    /** @type {Map<string, JobExecution[]>} running jobs by name */
    this.running = new Map();
  }
}

class JobExecution {
  constructor(id, name, event, inv) {
    this.id = id;
    this.name = name;
    this.event = event;
    this.inv = inv;
    this.ended = false;
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

/**
 * The library's logger module (`helpers/log`, which its package does not export by name),
 * found beside the module that defines `Base`; undefined for a plain base or an ES module build.
 * @param {Function} Base
 */
function loggerBeside(Base) {
  if (Base === PlainBase) return undefined;
  for (const m of Object.values(require.cache)) {
    if (m?.exports?.BasePlugin !== Base) continue;
    try {
      const logger = require(path.join(path.dirname(m.filename), 'helpers', 'log.js'));
      if (typeof logger.setPluginManager === 'function') return logger;
    } catch {}  // a module elsewhere in the package that re-exports BasePlugin
  }
  return undefined;
}

module.exports = { EdpipeEmitter: emitterClass(), emitterClass, safeJson, LineSink, uuidv7 };
